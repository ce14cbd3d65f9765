"""What a manager is told when a plan cannot offer fewer plots: one plot or several, in each
language."""

from farm.i18n import use_language
from farm.seasons.console import held_message, in_checkout_message, refusal_message


def test_one_plot_held_or_sold_is_said_in_the_singular_in_english():
    with use_language("en"):
        assert held_message(1).startswith("1 plot is sold or in checkout right now")
        assert held_message(3).startswith("3 plots are sold or in checkout right now")
        assert refusal_message("max_plots", sold=1).startswith("1 plot is sold already")
        assert refusal_message("max_plots", sold=2).startswith("2 plots are sold already")
        assert in_checkout_message(1).startswith("1 plot of this plan is in checkout")
        assert in_checkout_message(2).startswith("2 plots of this plan are in checkout")


def test_the_refusals_are_in_chinese_for_a_chinese_manager():
    with use_language("zh_CN"):
        assert held_message(1).startswith("此刻已有 1 块地已认购或正在付款")
        assert refusal_message("max_plots", sold=2).startswith("已售出2块地")
        assert in_checkout_message(2).startswith("此刻有 2 块地正在付款")

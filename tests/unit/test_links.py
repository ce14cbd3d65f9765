"""Absolute links are the public base URL joined to a page's path, in one place."""

from farm.links import Links

SITE = Links("https://farm.example")


def test_the_qr_code_holds_the_partners_scan_page():
    assert SITE.voucher_scan("ABCDEFGHJKMN") == "https://farm.example/v/ABCDEFGHJKMN"


def test_a_subscription_link_goes_to_its_page_or_one_of_its_pages():
    assert SITE.subscription(7) == "https://farm.example/account/subscriptions/7"
    assert SITE.subscription(7, "deliveries") == (
        "https://farm.example/account/subscriptions/7/deliveries"
    )


def test_a_reset_link_carries_its_token():
    assert SITE.password_reset("abc.def") == "https://farm.example/password/reset/abc.def"

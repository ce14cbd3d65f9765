"""A subscription's life, from reservation to its season's end, in one place above the
capabilities it moves: reserve (subscriptions.services.reserve_plot, which needs no other
capability), pay (checkout), activate with vouchers and mails (activation), cancel with its
refund, stays and vouchers (cancellation), complete (completion, with
shipments.closing), and the customer's pages and Stripe's webhook that drive them (routes).

Payments, vouchers and partners know nothing of this module; it calls them."""

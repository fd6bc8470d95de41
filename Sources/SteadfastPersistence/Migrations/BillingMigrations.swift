/// Migrations 200–299: the billing core (catalogue, orders, services, invoices, payments,
/// credit, recurring-billing effects, API tokens), then Stripe's customers and PaymentIntents (201),
/// saved cards and automatic capture attempts (240).
///
/// Money columns are `BIGINT` minor units with the currency beside them; calendar days
/// (due dates, periods) are `TEXT` `YYYY-MM-DD`, which compares correctly as text in both
/// engines. Every money-moving step is protected by a unique constraint written in the same
/// transaction as its effect:
///
/// | constraint | makes exactly-once |
/// | --- | --- |
/// | `payments_unique_key` | a payment (Idempotency-Key or gateway transaction id) |
/// | `idempotency_records` primary key | the stored answer to a retried request |
/// | `invoices_number_unique` + `invoice_sequences` row lock | gap-free invoice numbers |
/// | `service_renewals` primary key (service, period) | one renewal invoice per period |
/// | `invoice_reminders` primary key (invoice, kind) | one reminder of each kind |
/// | `invoice_late_fees` primary key (invoice) | one late fee per invoice |
public enum BillingMigrations {
    public static let all: [Migration] = [
        Migration(version: 200, name: "billing core") { d in
            let uuid = d.uuidType, ts = d.timestampType, bool = d.boolType, money = d.bigintType
            return [
                """
                CREATE TABLE billing_profiles (
                    client_id \(uuid) PRIMARY KEY REFERENCES accounts(id),
                    country TEXT,
                    region TEXT,
                    tax_exempt \(bool) NOT NULL,
                    currency TEXT NOT NULL,
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL
                )
                """,
                """
                CREATE TABLE product_groups (
                    id \(uuid) PRIMARY KEY,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    hidden \(bool) NOT NULL,
                    sort_order INTEGER NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
                """
                CREATE TABLE products (
                    id \(uuid) PRIMARY KEY,
                    group_id \(uuid) NOT NULL REFERENCES product_groups(id),
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    hidden \(bool) NOT NULL,
                    retired \(bool) NOT NULL,
                    stock_limit INTEGER,
                    stock_sold INTEGER NOT NULL,
                    taxable \(bool) NOT NULL,
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL,
                    CONSTRAINT products_stock CHECK (stock_sold >= 0 AND (stock_limit IS NULL OR stock_sold <= stock_limit))
                )
                """,
                "CREATE INDEX products_group ON products (group_id)",
                """
                CREATE TABLE product_options (
                    id \(uuid) PRIMARY KEY,
                    product_id \(uuid) NOT NULL REFERENCES products(id),
                    name TEXT NOT NULL,
                    position INTEGER NOT NULL
                )
                """,
                "CREATE INDEX product_options_product ON product_options (product_id)",
                """
                CREATE TABLE product_option_choices (
                    id \(uuid) PRIMARY KEY,
                    option_id \(uuid) NOT NULL REFERENCES product_options(id),
                    name TEXT NOT NULL,
                    position INTEGER NOT NULL
                )
                """,
                "CREATE INDEX product_option_choices_option ON product_option_choices (option_id)",
                """
                CREATE TABLE catalogue_prices (
                    owner_id \(uuid) NOT NULL,
                    cycle TEXT NOT NULL,
                    recurring \(money) NOT NULL,
                    setup_fee \(money) NOT NULL,
                    PRIMARY KEY (owner_id, cycle),
                    CONSTRAINT catalogue_prices_positive CHECK (recurring >= 0 AND setup_fee >= 0)
                )
                """,
                """
                CREATE TABLE cart_items (
                    id \(uuid) PRIMARY KEY,
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    product_id \(uuid) NOT NULL REFERENCES products(id),
                    cycle TEXT NOT NULL,
                    selections TEXT NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX cart_items_client ON cart_items (client_id)",
                """
                CREATE TABLE orders (
                    id \(uuid) PRIMARY KEY,
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled', 'fraud')),
                    currency TEXT NOT NULL,
                    invoice_id \(uuid),
                    order_date TEXT NOT NULL,
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX orders_client ON orders (client_id, created_at)",
                "CREATE INDEX orders_status ON orders (status, created_at)",
                """
                CREATE TABLE order_items (
                    id \(uuid) PRIMARY KEY,
                    order_id \(uuid) NOT NULL REFERENCES orders(id),
                    position INTEGER NOT NULL,
                    product_id \(uuid) NOT NULL REFERENCES products(id),
                    description TEXT NOT NULL,
                    cycle TEXT NOT NULL,
                    selections TEXT NOT NULL,
                    recurring \(money) NOT NULL,
                    setup_fee \(money) NOT NULL,
                    service_id \(uuid)
                )
                """,
                "CREATE INDEX order_items_order ON order_items (order_id)",
                """
                CREATE TABLE services (
                    id \(uuid) PRIMARY KEY,
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    order_id \(uuid),
                    product_id \(uuid) NOT NULL REFERENCES products(id),
                    description TEXT NOT NULL,
                    cycle TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'terminated', 'cancelled')),
                    currency TEXT NOT NULL,
                    recurring \(money) NOT NULL,
                    anchor_day INTEGER NOT NULL,
                    registration_date TEXT NOT NULL,
                    next_due_date TEXT,
                    suspension_reason TEXT,
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX services_client ON services (client_id, created_at)",
                "CREATE INDEX services_due ON services (status, next_due_date)",
                """
                CREATE TABLE invoices (
                    id \(uuid) PRIMARY KEY,
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    number TEXT,
                    status TEXT NOT NULL CHECK (status IN ('draft', 'unpaid', 'paid', 'cancelled', 'refunded', 'collections')),
                    currency TEXT NOT NULL,
                    issue_date TEXT,
                    due_date TEXT NOT NULL,
                    paid_at \(ts),
                    subtotal \(money) NOT NULL,
                    tax \(money) NOT NULL,
                    total \(money) NOT NULL,
                    amount_paid \(money) NOT NULL,
                    tax_name TEXT,
                    tax_rate \(money),
                    tax_mode TEXT NOT NULL,
                    order_id \(uuid),
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL,
                    CONSTRAINT invoices_number_unique UNIQUE (number),
                    CONSTRAINT invoices_paid_not_negative CHECK (amount_paid >= 0)
                )
                """,
                "CREATE INDEX invoices_client ON invoices (client_id, created_at)",
                "CREATE INDEX invoices_status_due ON invoices (status, due_date)",
                """
                CREATE TABLE invoice_items (
                    id \(uuid) PRIMARY KEY,
                    invoice_id \(uuid) NOT NULL REFERENCES invoices(id),
                    position INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    description TEXT NOT NULL,
                    service_id \(uuid),
                    order_item_id \(uuid),
                    net \(money) NOT NULL,
                    tax \(money) NOT NULL,
                    gross \(money) NOT NULL,
                    taxable \(bool) NOT NULL,
                    period_start TEXT,
                    period_end TEXT
                )
                """,
                "CREATE INDEX invoice_items_invoice ON invoice_items (invoice_id, position)",
                "CREATE INDEX invoice_items_service ON invoice_items (service_id)",
                """
                CREATE TABLE invoice_sequences (
                    sequence_key TEXT PRIMARY KEY,
                    last_value \(money) NOT NULL
                )
                """,
                """
                CREATE TABLE payments (
                    id \(uuid) PRIMARY KEY,
                    invoice_id \(uuid) NOT NULL REFERENCES invoices(id),
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
                    gateway TEXT NOT NULL,
                    amount \(money) NOT NULL,
                    currency TEXT NOT NULL,
                    transaction_id TEXT,
                    unique_key TEXT NOT NULL,
                    refund_of \(uuid),
                    note TEXT NOT NULL,
                    created_at \(ts) NOT NULL,
                    CONSTRAINT payments_unique_key UNIQUE (unique_key),
                    CONSTRAINT payments_amount_positive CHECK (amount > 0)
                )
                """,
                "CREATE INDEX payments_invoice ON payments (invoice_id)",
                "CREATE INDEX payments_client ON payments (client_id, created_at)",
                "CREATE INDEX payments_created ON payments (created_at)",
                """
                CREATE TABLE credit_entries (
                    id \(uuid) PRIMARY KEY,
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    amount \(money) NOT NULL,
                    currency TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    invoice_id \(uuid),
                    payment_id \(uuid),
                    description TEXT NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX credit_entries_client ON credit_entries (client_id, created_at)",
                """
                CREATE TABLE idempotency_records (
                    record_key TEXT PRIMARY KEY,
                    fingerprint TEXT NOT NULL,
                    response TEXT NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
                """
                CREATE TABLE gateway_checkouts (
                    id \(uuid) PRIMARY KEY,
                    invoice_id \(uuid) NOT NULL REFERENCES invoices(id),
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    gateway TEXT NOT NULL,
                    amount \(money) NOT NULL,
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
                    payment_id \(uuid),
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX gateway_checkouts_client ON gateway_checkouts (client_id)",
                """
                CREATE TABLE service_renewals (
                    service_id \(uuid) NOT NULL REFERENCES services(id),
                    period_start TEXT NOT NULL,
                    invoice_id \(uuid) NOT NULL,
                    created_at \(ts) NOT NULL,
                    PRIMARY KEY (service_id, period_start)
                )
                """,
                """
                CREATE TABLE invoice_reminders (
                    invoice_id \(uuid) NOT NULL REFERENCES invoices(id),
                    kind TEXT NOT NULL,
                    created_at \(ts) NOT NULL,
                    delivered_at \(ts),
                    PRIMARY KEY (invoice_id, kind)
                )
                """,
                """
                CREATE TABLE invoice_late_fees (
                    invoice_id \(uuid) PRIMARY KEY REFERENCES invoices(id),
                    amount \(money) NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
                """
                CREATE TABLE api_tokens (
                    id \(uuid) PRIMARY KEY,
                    name TEXT NOT NULL,
                    token_hash TEXT NOT NULL,
                    account_id \(uuid) NOT NULL REFERENCES accounts(id),
                    created_at \(ts) NOT NULL,
                    last_used_at \(ts),
                    revoked_at \(ts),
                    CONSTRAINT api_tokens_hash_unique UNIQUE (token_hash)
                )
                """,
            ]
        },
        Migration(version: 201, name: "billing: Stripe customers and payment intents") { d in
            let uuid = d.uuidType, ts = d.timestampType, money = d.bigintType
            return [
                // One Stripe customer per client: the primary key makes "created once" hold
                // even when two nodes create one at the same moment (the loser reads the winner's).
                """
                CREATE TABLE stripe_customers (
                    client_id \(uuid) PRIMARY KEY REFERENCES accounts(id),
                    customer_id TEXT NOT NULL,
                    created_at \(ts) NOT NULL,
                    CONSTRAINT stripe_customers_customer_unique UNIQUE (customer_id)
                )
                """,
                // Which invoice a PaymentIntent pays: webhooks find the invoice here, never from
                // the event's metadata alone. status: open, succeeded, failed, disputed.
                """
                CREATE TABLE stripe_payment_intents (
                    intent_id TEXT PRIMARY KEY,
                    invoice_id \(uuid) NOT NULL REFERENCES invoices(id),
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    amount \(money) NOT NULL,
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL,
                    dispute_id TEXT,
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX stripe_payment_intents_invoice ON stripe_payment_intents (invoice_id)",
            ]
        },
        Migration(version: 240, name: "billing: saved cards and automatic capture attempts") { d in
            let uuid = d.uuidType, ts = d.timestampType, bool = d.boolType, money = d.bigintType
            return [
                // A client's saved Stripe cards. The payment method id is Stripe's; the client
                // id is what every look-up carries (another client's card is "not found").
                // Removing a card keeps the row (removed_at) so past attempts still name it.
                """
                CREATE TABLE stripe_payment_methods (
                    payment_method_id TEXT PRIMARY KEY,
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    brand TEXT NOT NULL,
                    last4 TEXT NOT NULL,
                    exp_month INTEGER NOT NULL,
                    exp_year INTEGER NOT NULL,
                    is_default \(bool) NOT NULL,
                    created_at \(ts) NOT NULL,
                    removed_at \(ts)
                )
                """,
                "CREATE INDEX stripe_payment_methods_client ON stripe_payment_methods (client_id, created_at)",
                // One row per automatic capture attempt of an invoice: the primary key
                // (invoice, attempt) is the attempt's claim, written before Stripe is called;
                // the provider key steadfast-pay-<invoice>-capture-<attempt> is derived from it.
                // status: charging (claimed; Stripe may or may not have charged), succeeded, failed.
                """
                CREATE TABLE billing_capture_attempts (
                    invoice_id \(uuid) NOT NULL REFERENCES invoices(id),
                    attempt INTEGER NOT NULL,
                    client_id \(uuid) NOT NULL REFERENCES accounts(id),
                    payment_method_id TEXT NOT NULL,
                    amount \(money) NOT NULL,
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('charging', 'succeeded', 'failed')),
                    intent_id TEXT,
                    failure TEXT,
                    started_at \(ts) NOT NULL,
                    finished_at \(ts),
                    PRIMARY KEY (invoice_id, attempt)
                )
                """,
                "CREATE INDEX billing_capture_attempts_status ON billing_capture_attempts (status)",
            ]
        },
    ]
}

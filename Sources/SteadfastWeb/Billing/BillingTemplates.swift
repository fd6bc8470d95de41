/// The billing HTML templates (Mustache), compiled into the binary like ``Templates``.
/// Every form that changes state carries `_csrf`; money-moving forms also carry a one-time
/// `idempotency_key` generated when the page was rendered, so a double-click submits the same
/// key and moves money once.
enum BillingTemplates {
    static let all: [String: String] = [
        "billing-nav": nav,
        "store": store,
        "cart": cart,
        "client-order": clientOrder,
        "client-services": clientServices,
        "client-service": clientService,
        "client-invoices": clientInvoices,
        "client-invoice": clientInvoice,
        "invoice-print": invoicePrint,
        "client-credit": clientCredit,
        "client-profile": clientProfile,
        "checkout": checkout,
        "bank-transfer": bankTransfer,
        "admin-nav": adminNav,
        "admin-clients": adminClients,
        "admin-client": adminClient,
        "admin-products": adminProducts,
        "admin-product": adminProduct,
        "admin-orders": adminOrders,
        "admin-order": adminOrder,
        "admin-services": adminServices,
        "admin-invoices": adminInvoices,
        "admin-invoice": adminInvoice,
        "admin-payments": adminPayments,
        "admin-tokens": adminTokens,
        "admin-run": adminRun,
    ]

    static let style = """
    <style>table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd}
    td.n,th.n{text-align:right}.status{font-size:.85em;padding:.1rem .4rem;border-radius:3px;background:#e9ecef}
    .inline{display:inline}.inline button{margin:0 .3rem 0 0}nav.sub a{margin-right:1rem}select{padding:.4rem}.notice{background:#e2f0e6;border:1px solid #9fc9ab;padding:.6rem 1rem;border-radius:4px}</style>
    """

    static let nav = """
    \(style)
    <nav class="sub"><a href="/clientarea">Overview</a><a href="/store">Order</a><a href="/cart">Cart</a><a href="/clientarea/services">Services</a><a href="/clientarea/invoices">Invoices</a><a href="/clientarea/credit">Credit</a><a href="/clientarea/billing-profile">Billing details</a><a href="/clientarea/tickets">Support</a></nav>
    """

    static let store = """
    {{> billing-nav}}
    <h1>Order</h1>
    {{#groups}}<h2>{{name}}</h2><p>{{description}}</p>
    {{#products}}<form method="post" action="/cart/items"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="product_id" value="{{id}}">
    <h3>{{name}}</h3><p>{{description}}</p>{{#stock}}<p>{{stock}} left</p>{{/stock}}
    <label>Billing cycle <select name="cycle">{{#prices}}<option value="{{cycle}}">{{label}}: {{price}}{{#setup}} + {{setup}} setup{{/setup}}</option>{{/prices}}</select></label>
    {{#options}}<label>{{name}} <select name="option_{{id}}">{{#choices}}<option value="{{id}}">{{name}}</option>{{/choices}}</select></label>{{/options}}
    <button type="submit">Add to cart</button></form>{{/products}}
    {{/groups}}{{^groups}}<p>Nothing is on sale right now.</p>{{/groups}}
    """

    static let cart = """
    {{> billing-nav}}
    <h1>Cart</h1>
    {{#hasItems}}<table><tr><th>Product</th><th>Cycle</th><th class="n">Price</th><th class="n">Setup</th><th></th></tr>
    {{#items}}<tr><td>{{name}}</td><td>{{cycle}}</td><td class="n">{{price}}</td><td class="n">{{setup}}</td>
    <td><form class="inline" method="post" action="/cart/items/{{id}}/delete"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Remove</button></form></td></tr>{{/items}}
    </table>
    <p>Subtotal {{subtotal}} · Tax {{tax}} · <strong>Total {{total}}</strong></p>
    <form method="post" action="/cart/checkout"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="idempotency_key" value="{{idempotencyKey}}"><button type="submit">Place order</button></form>
    {{/hasItems}}{{^hasItems}}<p>Your cart is empty. <a href="/store">Browse products</a>.</p>{{/hasItems}}
    """

    static let clientOrder = """
    {{> billing-nav}}
    <h1>Order {{id}}</h1>
    <p>Status: <span class="status">{{status}}</span> · placed {{date}}</p>
    <table><tr><th>Item</th><th>Cycle</th><th class="n">Recurring</th><th class="n">Setup</th></tr>
    {{#items}}<tr><td>{{description}}</td><td>{{cycle}}</td><td class="n">{{recurring}}</td><td class="n">{{setup}}</td></tr>{{/items}}</table>
    {{#invoiceID}}<p><a href="/clientarea/invoices/{{invoiceID}}">View and pay the invoice</a></p>{{/invoiceID}}
    """

    static let clientServices = """
    {{> billing-nav}}
    <h1>Your services</h1>
    <table><tr><th>Service</th><th>Cycle</th><th>Status</th><th class="n">Price</th><th>Next due</th></tr>
    {{#services}}<tr><td><a href="/clientarea/services/{{id}}">{{description}}</a></td><td>{{cycle}}</td><td><span class="status">{{status}}</span></td><td class="n">{{price}}</td><td>{{due}}</td></tr>{{/services}}
    </table>{{^services}}<p>No services yet. <a href="/store">Order one</a>.</p>{{/services}}
    """

    static let clientService = """
    {{> billing-nav}}
    <h1>{{description}}</h1>
    <dl><dt>Status</dt><dd><span class="status">{{status}}</span>{{#reason}} ({{reason}}){{/reason}}</dd><dt>Billing cycle</dt><dd>{{cycle}}</dd>
    <dt>Price</dt><dd>{{price}}</dd><dt>Registered</dt><dd>{{registered}}</dd><dt>Next due</dt><dd>{{due}}</dd></dl>
    """

    static let invoiceRows = """
    <table><tr><th>Number</th><th>Issued</th><th>Due</th><th>Status</th><th class="n">Total</th><th class="n">Balance</th></tr>
    {{#invoices}}<tr><td><a href="{{href}}">{{number}}</a></td><td>{{issued}}</td><td>{{due}}</td><td><span class="status">{{status}}</span></td><td class="n">{{total}}</td><td class="n">{{balance}}</td></tr>{{/invoices}}
    </table>
    """

    static let clientInvoices = """
    {{> billing-nav}}
    <h1>Invoices</h1>
    \(invoiceRows)
    {{^invoices}}<p>No invoices.</p>{{/invoices}}
    {{#more}}<p><a href="/clientarea/invoices?offset={{next}}">Older invoices</a></p>{{/more}}
    """

    static let invoiceBody = """
    <table><tr><th>Description</th><th class="n">Net</th><th class="n">Tax</th><th class="n">Amount</th></tr>
    {{#lines}}<tr><td>{{description}}</td><td class="n">{{net}}</td><td class="n">{{tax}}</td><td class="n">{{gross}}</td></tr>{{/lines}}
    <tr><td>Subtotal</td><td class="n">{{subtotal}}</td><td></td><td></td></tr>
    <tr><td>{{taxLabel}}</td><td></td><td class="n">{{tax}}</td><td></td></tr>
    <tr><th>Total</th><td></td><td></td><th class="n">{{total}}</th></tr>
    <tr><td>Paid</td><td></td><td></td><td class="n">{{paid}}</td></tr>
    <tr><th>Balance due</th><td></td><td></td><th class="n">{{balance}}</th></tr></table>
    """

    static let clientInvoice = """
    {{> billing-nav}}
    <h1>Invoice {{number}}</h1>
    {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
    <p>Status: <span class="status">{{status}}</span> · issued {{issued}} · due {{due}} · <a href="/clientarea/invoices/{{id}}/print">Printable view</a></p>
    \(invoiceBody)
    {{#payable}}
    <h2>Pay</h2>
    <form method="post" action="/clientarea/invoices/{{id}}/pay"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="idempotency_key" value="{{idempotencyKey}}">
    <label>Payment method <select name="gateway">{{#gateways}}<option value="{{value}}">{{label}}</option>{{/gateways}}</select></label>
    <button type="submit">Pay {{balance}}</button></form>
    {{#credit}}<form method="post" action="/clientarea/invoices/{{id}}/apply-credit"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="idempotency_key" value="{{creditKey}}">
    <button type="submit">Use my credit ({{credit}})</button></form>{{/credit}}
    {{/payable}}
    {{#hasPayments}}<h2>Payments</h2><table><tr><th>Date</th><th>Method</th><th>Kind</th><th class="n">Amount</th></tr>
    {{#payments}}<tr><td>{{date}}</td><td>{{gateway}}</td><td>{{kind}}</td><td class="n">{{amount}}</td></tr>{{/payments}}</table>{{/hasPayments}}
    """

    static let invoicePrint = """
    <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Invoice {{number}}</title>
    <style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;color:#111}table{border-collapse:collapse;width:100%;margin:1rem 0}
    th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ccc}td.n,th.n{text-align:right}@media print{a{display:none}}</style></head>
    <body><h1>Invoice {{number}}</h1>
    <p>Billed to: {{clientName}} &lt;{{clientEmail}}&gt;{{#country}} · {{country}}{{/country}}</p>
    <p>Issued {{issued}} · Due {{due}} · Status: {{status}}</p>
    \(invoiceBody)
    <p><small>Amounts in {{currency}}. Tax rounded per line, half away from zero.</small></p>
    </body></html>
    """

    static let clientCredit = """
    {{> billing-nav}}
    <h1>Credit</h1>
    <p>Your credit balance: <strong>{{balance}}</strong>. Credit pays renewal invoices automatically.</p>
    <table><tr><th>Date</th><th>What</th><th class="n">Amount</th></tr>
    {{#entries}}<tr><td>{{date}}</td><td>{{description}}</td><td class="n">{{amount}}</td></tr>{{/entries}}</table>
    """

    static let clientProfile = """
    {{> billing-nav}}
    <h1>Billing details</h1>
    <p>Tax is charged by where you are.</p>
    <form method="post" action="/clientarea/billing-profile"><input type="hidden" name="_csrf" value="{{csrf}}">
    <label for="country">Country (two-letter code, e.g. DE, US)</label><input id="country" name="country" value="{{country}}" maxlength="2">
    <label for="region">State or region code (optional, e.g. NY)</label><input id="region" name="region" value="{{region}}" maxlength="10">
    <button type="submit">Save</button></form>
    {{#saved}}<p class="notice" role="status">Saved.</p>{{/saved}}
    """

    static let checkout = """
    \(style)
    <h1>Test card payment</h1>
    <p>This page stands in for a card provider's payment page (the <em>testcard</em> gateway). Nothing is charged.</p>
    <p>Amount: <strong>{{amount}}</strong> · Status: <span class="status">{{status}}</span></p>
    {{#pending}}<form class="inline" method="post" action="/clientarea/checkouts/{{id}}"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="outcome" value="pay"><button type="submit">Pay with test card 4242…</button></form>
    <form class="inline" method="post" action="/clientarea/checkouts/{{id}}"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="outcome" value="fail"><button type="submit">Simulate a decline</button></form>{{/pending}}
    <p><a href="/clientarea/invoices/{{invoiceID}}">Back to the invoice</a></p>
    """

    static let bankTransfer = """
    {{> billing-nav}}
    <h1>Pay by bank transfer</h1>
    <p class="notice">{{instructions}}</p>
    <p><a href="/clientarea/invoices/{{id}}">Back to the invoice</a></p>
    """

    // MARK: Staff

    static let adminNav = """
    \(style)
    <nav class="sub"><a href="/admin">Overview</a><a href="/admin/clients">Clients</a><a href="/admin/products">Products</a><a href="/admin/orders">Orders</a><a href="/admin/services">Services</a><a href="/admin/invoices">Invoices</a><a href="/admin/payments">Payments</a><a href="/admin/api-tokens">API tokens</a><a href="/admin/tickets">Support</a><a href="/admin/mail">Mail</a></nav>
    """

    static let adminClients = """
    {{> admin-nav}}
    <h1>Clients</h1>
    <form method="get" action="/admin/clients"><label for="search">Search name or e-mail</label><input id="search" name="search" value="{{search}}"><button type="submit">Search</button></form>
    <table><tr><th>Name</th><th>E-mail</th><th>Country</th><th class="n">Outstanding</th><th class="n">Credit</th></tr>
    {{#clients}}<tr><td><a href="/admin/clients/{{id}}">{{name}}</a></td><td>{{email}}</td><td>{{country}}</td><td class="n">{{outstanding}}</td><td class="n">{{credit}}</td></tr>{{/clients}}</table>
    """

    static let adminClient = """
    {{> admin-nav}}
    <h1>{{name}}</h1>
    <p>{{email}} · outstanding {{outstanding}} · credit {{credit}}</p>
    <h2>Billing details</h2>
    <form method="post" action="/admin/clients/{{id}}/billing-profile"><input type="hidden" name="_csrf" value="{{csrf}}">
    <label>Country <input name="country" value="{{country}}" maxlength="2"></label><label>Region <input name="region" value="{{region}}" maxlength="10"></label>
    <label><input type="checkbox" name="tax_exempt" value="1" {{#taxExempt}}checked{{/taxExempt}} style="width:auto"> Tax-exempt</label><button type="submit">Save</button></form>
    <h2>Credit</h2>
    <form method="post" action="/admin/clients/{{id}}/credit"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="idempotency_key" value="{{idempotencyKey}}">
    <label>Amount ({{currency}}; negative removes credit) <input name="amount" required></label><label>Description <input name="description" required></label><button type="submit">Adjust credit</button></form>
    <h2>New invoice</h2>
    <form method="post" action="/admin/invoices"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="client_id" value="{{id}}">
    <label>Description <input name="description" required></label><label>Amount ({{currency}}) <input name="amount" required></label><button type="submit">Create draft</button></form>
    <h2>Services</h2><table><tr><th>Service</th><th>Status</th><th>Next due</th></tr>
    {{#services}}<tr><td><a href="/admin/services?client_id={{clientID}}">{{description}}</a></td><td>{{status}}</td><td>{{due}}</td></tr>{{/services}}</table>
    <h2>Invoices</h2>
    \(invoiceRows)
    """

    static let productFields = """
    <label>Group <select name="group_id">{{#groups}}<option value="{{id}}" {{#selected}}selected{{/selected}}>{{name}}</option>{{/groups}}</select></label>
    <label>Name <input name="name" value="{{product.name}}" required></label>
    <label>Description <input name="description" value="{{product.description}}"></label>
    <table><tr><th>Cycle</th><th>Price ({{currency}})</th><th>Setup fee</th></tr>
    {{#cycles}}<tr><td>{{label}}</td><td><input name="price_{{cycle}}" value="{{price}}"></td><td><input name="setup_{{cycle}}" value="{{setup}}"></td></tr>{{/cycles}}</table>
    <label>Stock limit (empty: unlimited) <input name="stock_limit" value="{{product.stockLimit}}"></label>
    <label><input type="checkbox" name="hidden" value="1" style="width:auto" {{#product.hidden}}checked{{/product.hidden}}> Hidden from the store</label>
    <label><input type="checkbox" name="retired" value="1" style="width:auto" {{#product.retired}}checked{{/product.retired}}> Retired (no new orders)</label>
    <label><input type="checkbox" name="tax_free" value="1" style="width:auto" {{#product.taxFree}}checked{{/product.taxFree}}> Not taxable</label>
    """

    static let adminProducts = """
    {{> admin-nav}}
    <h1>Products</h1>
    <table><tr><th>Product</th><th>Group</th><th>Prices</th><th>Stock</th><th>State</th></tr>
    {{#products}}<tr><td><a href="/admin/products/{{id}}">{{name}}</a></td><td>{{group}}</td><td>{{prices}}</td><td>{{stock}}</td><td>{{state}}</td></tr>{{/products}}</table>
    <h2>New product group</h2>
    <form method="post" action="/admin/product-groups"><input type="hidden" name="_csrf" value="{{csrf}}"><label>Name <input name="name" required></label>
    <label>Description <input name="description"></label><label><input type="checkbox" name="hidden" value="1" style="width:auto"> Hidden</label><button type="submit">Create group</button></form>
    {{#hasGroups}}<h2>New product</h2>
    <form method="post" action="/admin/products"><input type="hidden" name="_csrf" value="{{csrf}}">
    \(productFields)
    <button type="submit">Create product</button></form>{{/hasGroups}}
    """

    static let adminProduct = """
    {{> admin-nav}}
    <h1>{{product.name}}</h1>
    <p>Sold: {{product.sold}}</p>
    <form method="post" action="/admin/products/{{product.id}}"><input type="hidden" name="_csrf" value="{{csrf}}">
    \(productFields)
    <button type="submit">Save</button></form>
    {{#hasOptions}}<h2>Configurable options</h2><ul>{{#options}}<li>{{name}}: {{choices}}</li>{{/options}}</ul>{{/hasOptions}}
    """

    static let adminOrders = """
    {{> admin-nav}}
    <h1>Orders</h1>
    <p><a href="/admin/orders?status=pending">Pending</a> · <a href="/admin/orders">All</a></p>
    <table><tr><th>Order</th><th>Placed</th><th>Client</th><th>Status</th></tr>
    {{#orders}}<tr><td><a href="/admin/orders/{{id}}">{{short}}</a></td><td>{{date}}</td><td><a href="/admin/clients/{{clientID}}">client</a></td><td><span class="status">{{status}}</span></td></tr>{{/orders}}</table>
    """

    static let adminOrder = """
    {{> admin-nav}}
    <h1>Order {{id}}</h1>
    <p>Status: <span class="status">{{status}}</span> · placed {{date}} · <a href="/admin/clients/{{clientID}}">client</a>{{#invoiceID}} · <a href="/admin/invoices/{{invoiceID}}">invoice</a>{{/invoiceID}}</p>
    <table><tr><th>Item</th><th>Cycle</th><th class="n">Recurring</th><th class="n">Setup</th></tr>
    {{#items}}<tr><td>{{description}}</td><td>{{cycle}}</td><td class="n">{{recurring}}</td><td class="n">{{setup}}</td></tr>{{/items}}</table>
    {{#pending}}{{#actions}}<form class="inline" method="post" action="/admin/orders/{{id}}/{{action}}"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">{{label}}</button></form>{{/actions}}{{/pending}}
    """

    static let adminServices = """
    {{> admin-nav}}
    <h1>Services</h1>
    <table><tr><th>Service</th><th>Status</th><th>Next due</th><th>Actions</th></tr>
    {{#services}}<tr><td>{{description}} (<a href="/admin/clients/{{clientID}}">client</a>)</td><td><span class="status">{{status}}</span>{{#reason}} ({{reason}}){{/reason}}</td><td>{{due}}</td>
    <td>{{#actions}}<form class="inline" method="post" action="/admin/services/{{id}}/{{action}}"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">{{action}}</button></form>{{/actions}}</td></tr>{{/services}}</table>
    """

    static let adminInvoices = """
    {{> admin-nav}}
    <h1>Invoices</h1>
    <p>{{#filters}}<a href="/admin/invoices?status={{.}}">{{.}}</a> · {{/filters}}<a href="/admin/invoices">all</a></p>
    \(invoiceRows)
    <form method="post" action="/admin/billing/run"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Run recurring billing now</button></form>
    """

    static let adminInvoice = """
    {{> admin-nav}}
    <h1>Invoice {{number}}</h1>
    <p>Status: <span class="status">{{status}}</span> · client <a href="/admin/clients/{{clientID}}">{{clientName}}</a> · issued {{issued}} · due {{due}} · <a href="/admin/invoices/{{id}}/print">Printable view</a></p>
    \(invoiceBody)
    {{#actions}}<form class="inline" method="post" action="/admin/invoices/{{id}}/{{action}}"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">{{label}}</button></form>{{/actions}}
    {{#draft}}<h2>Add a line</h2><form method="post" action="/admin/invoices/{{id}}/lines"><input type="hidden" name="_csrf" value="{{csrf}}">
    <label>Description <input name="description" required></label><label>Amount <input name="amount" required></label><button type="submit">Add</button></form>{{/draft}}
    {{#payable}}<h2>Record a payment</h2>
    <form method="post" action="/admin/invoices/{{id}}/payments"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="idempotency_key" value="{{idempotencyKey}}">
    <label>Amount ({{currency}}) <input name="amount" value="{{balanceDecimal}}" required></label><label>Bank reference (optional) <input name="transaction_id"></label>
    <label>Note <input name="note"></label><button type="submit">Record bank transfer</button></form>{{/payable}}
    <h2>Payments</h2><table><tr><th>Date</th><th>Method</th><th>Kind</th><th>Reference</th><th class="n">Amount</th><th></th></tr>
    {{#payments}}<tr><td>{{date}}</td><td>{{gateway}}</td><td>{{kind}}</td><td>{{reference}}</td><td class="n">{{amount}}</td><td>{{#refundable}}<a href="/admin/payments?focus={{id}}">refund</a>{{/refundable}}</td></tr>{{/payments}}</table>
    """

    static let adminPayments = """
    {{> admin-nav}}
    <h1>Payments</h1>
    <table><tr><th>Date</th><th>Invoice</th><th>Method</th><th>Kind</th><th class="n">Amount</th><th>Refund</th></tr>
    {{#payments}}<tr><td>{{date}}</td><td><a href="/admin/invoices/{{invoiceID}}">invoice</a></td><td>{{gateway}}</td><td>{{kind}}</td><td class="n">{{amount}}</td>
    <td>{{#refundable}}<form class="inline" method="post" action="/admin/payments/{{id}}/refund"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="idempotency_key" value="{{key}}">
    <input name="amount" placeholder="all" style="width:6rem"><label class="inline"><input type="checkbox" name="to_credit" value="1" style="width:auto"> as credit</label><button type="submit">Refund</button></form>{{/refundable}}</td></tr>{{/payments}}</table>
    """

    static let adminTokens = """
    {{> admin-nav}}
    <h1>API tokens</h1>
    <p>Send a token as <code>Authorization: Bearer TOKEN</code> to use the staff API (<a href="/api/v1/openapi.json">OpenAPI document</a>).</p>
    {{#created}}<p class="notice" role="status">New token (shown once, copy it now): <code>{{created}}</code></p>{{/created}}
    <form method="post" action="/admin/api-tokens"><input type="hidden" name="_csrf" value="{{csrf}}"><label>Name <input name="name" required></label><button type="submit">Create token</button></form>
    <table><tr><th>Name</th><th>Created</th><th>Last used</th><th></th></tr>
    {{#tokens}}<tr><td>{{name}}</td><td>{{created}}</td><td>{{used}}</td><td>{{#revoked}}revoked{{/revoked}}{{^revoked}}<form class="inline" method="post" action="/admin/api-tokens/{{id}}/revoke"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Revoke</button></form>{{/revoked}}</td></tr>{{/tokens}}</table>
    """

    static let adminRun = """
    {{> admin-nav}}
    <h1>Recurring billing run</h1>
    <dl><dt>Renewal invoices</dt><dd>{{renewals}}</dd><dt>Credit applied</dt><dd>{{credit}}</dd><dt>Late fees</dt><dd>{{fees}}</dd>
    <dt>Reminders queued</dt><dd>{{reminders}}</dd><dt>Suspended</dt><dd>{{suspended}}</dd><dt>Unsuspended</dt><dd>{{unsuspended}}</dd></dl>
    """
}

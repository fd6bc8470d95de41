/// The HTML templates (Mustache), compiled into the binary so a node is one self-contained file.
/// `{{x}}` is HTML-escaped; `{{{content}}}` is only used for the already-rendered page body.
enum Templates {
    static let all: [String: String] = [
        "layout": layout,
        "login": login,
        "register": register,
        "logout": logout,
        "clientarea": clientarea,
        "admin": admin,
        "error": error,
        "jobs": jobs,
        "job": job,
    ]

    static let layout = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · Steadfast</title>
    <style>
    body{font-family:system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d232b}
    header{background:#1d3557;color:#fff;padding:.8rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
    header a{color:#fff;text-decoration:none;margin-right:1rem}
    header form{display:inline}
    main{max-width:48rem;margin:2rem auto;background:#fff;padding:2rem;border-radius:6px;box-shadow:0 1px 3px #0002}
    label{display:block;margin:.8rem 0 .2rem}
    input,textarea{width:100%;padding:.5rem;box-sizing:border-box}
    button{margin-top:1rem;padding:.5rem 1.2rem;background:#1d3557;color:#fff;border:0;border-radius:4px;cursor:pointer}
    header button{margin:0;background:#457b9d}
    .error{background:#fde2e1;border:1px solid #e5a3a1;padding:.6rem 1rem;border-radius:4px}
    .staff-notice{background:#fff3cd;border-bottom:2px solid #e0a800;margin:0;padding:.6rem 1.5rem}
    dt{font-weight:600}
    </style>
    </head>
    <body>
    <header>
    <div><a href="/"><strong>Steadfast</strong></a></div>
    <nav>
    {{#account}}<span>{{name}}</span> <a href="/clientarea">Client area</a><a href="/account">Account</a>{{#isStaff}}<a href="/admin">Admin</a>{{/isStaff}}<form method="post" action="/logout"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Log out</button></form>{{/account}}
    {{^account}}<a href="/login">Log in</a><a href="/register">Register</a>{{/account}}
    </nav>
    </header>
    {{#staffNotices}}<p class="staff-notice" role="alert">{{.}}</p>{{/staffNotices}}
    <main>
    {{{content}}}
    </main>
    </body>
    </html>
    """

    static let login = """
    <h1>Log in</h1>
    {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
    <form method="post" action="/login">
    <input type="hidden" name="_csrf" value="{{csrf}}">
    <label for="email">E-mail</label><input id="email" name="email" type="email" value="{{email}}" required autocomplete="username">
    <label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="current-password">
    <button type="submit">Log in</button>
    </form>
    <p><a href="/password-reset">Forgot your password?</a> No account yet? <a href="/register">Register</a>.</p>
    """

    static let register = """
    <h1>Create your account</h1>
    {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
    <form method="post" action="/register">
    <input type="hidden" name="_csrf" value="{{csrf}}">
    <label for="name">Name</label><input id="name" name="name" value="{{name}}" required autocomplete="name">
    <label for="email">E-mail</label><input id="email" name="email" type="email" value="{{email}}" required autocomplete="email">
    <label for="password">Password (at least 10 characters)</label><input id="password" name="password" type="password" required autocomplete="new-password">
    <button type="submit">Register</button>
    </form>
    """

    static let logout = """
    <h1>Log out</h1>
    <form method="post" action="/logout">
    <input type="hidden" name="_csrf" value="{{csrf}}">
    <button type="submit">Log out now</button>
    </form>
    """

    static let clientarea = """
    {{> billing-nav}}
    <h1>Client area</h1>
    <p>Welcome back, {{name}}.</p>
    <dl>
    <dt>Logged in as</dt><dd>{{email}}</dd>
    <dt>Account type</dt><dd>{{role}}</dd>
    <dt>Member since</dt><dd>{{since}}</dd>
    </dl>
    """

    static let admin = """
    {{> admin-nav}}
    <h1>Administration</h1>
    <p>Signed in as staff member {{name}} ({{email}}).</p>
    <dl>
    <dt>Node</dt><dd>{{node}}</dd>
    <dt>Clients</dt><dd>{{clients}}</dd>
    <dt>Staff</dt><dd>{{staff}}</dd>
    </dl>
    <p><a href="/admin/jobs">Scheduled jobs</a></p>
    """

    static let error = """
    <h1>{{heading}}</h1>
    <p class="error" role="alert">{{message}}</p>
    <p><small>Request id: {{requestID}}</small></p>
    <p><a href="/">Back to the start page</a></p>
    """
}

/// The scheduler's admin pages (`/admin/jobs`, `/admin/jobs/{name}`).
extension Templates {
    static let jobsStyle = """
    <style>
    main{max-width:72rem}
    table{border-collapse:collapse;width:100%;font-size:.9rem}
    th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #dde1e6;vertical-align:top}
    td form{margin:0} td button{margin:0;padding:.25rem .7rem}
    .state-failed,.state-timed_out,.state-abandoned{color:#b3261e;font-weight:600}
    .state-running,.state-pending{color:#1d6fb8}
    .notice{background:#e3f1e5;border:1px solid #9cc9a3;padding:.6rem 1rem;border-radius:4px}
    </style>
    """

    static let jobs = jobsStyle + """
    <h1>Scheduled jobs</h1>
    <p>Every node runs the scheduler; the database decides which node runs each slot. Viewed on node {{node}}; times in UTC. <a href="/admin">Back to administration</a></p>
    {{#none}}<p>No node has published any jobs yet.</p>{{/none}}
    <table>
    <thead><tr><th>Job</th><th>Schedule</th><th>Catch-up</th><th>Last run</th><th>Node</th><th>Duration</th><th>Outcome</th><th>Next run</th><th></th></tr></thead>
    <tbody>
    {{#jobs}}<tr><td><a href="/admin/jobs/{{name}}">{{name}}</a></td><td><code>{{schedule}}</code></td><td>{{catchUp}}</td><td>{{lastSlot}}</td><td>{{lastNode}}</td><td>{{lastDuration}}</td><td class="state-{{lastState}}" title="{{lastError}}">{{lastState}}</td><td>{{nextSlot}}</td>
    <td><form method="post" action="/admin/jobs/{{name}}/run"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Run now</button></form></td></tr>
    {{/jobs}}
    </tbody>
    </table>
    """

    static let job = jobsStyle + """
    {{#job}}
    <h1>Job {{name}}</h1>
    <p><a href="/admin/jobs">All jobs</a></p>
    {{#queued}}<p class="notice" role="status">Queued manual run {{queued}}: a node will run it once, shortly.</p>{{/queued}}
    <dl>
    <dt>Schedule</dt><dd><code>{{schedule}}</code></dd>
    <dt>Missed slots</dt><dd>{{catchUp}}</dd>
    <dt>Timeout</dt><dd>{{timeout}}</dd>
    <dt>Next run</dt><dd>{{nextSlot}}</dd>
    </dl>
    <form method="post" action="/admin/jobs/{{name}}/run"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Run now</button></form>
    {{/job}}
    <h2>History</h2>
    <table>
    <thead><tr><th>Slot</th><th>Kind</th><th>Outcome</th><th>Node</th><th>Token</th><th>Takeovers</th><th>Started</th><th>Lag</th><th>Duration</th><th>Error</th></tr></thead>
    <tbody>
    {{#runs}}<tr><td>{{slot}}</td><td>{{kind}}{{#requestedBy}} ({{requestedBy}}){{/requestedBy}}</td><td class="state-{{state}}">{{state}}</td><td>{{node}}</td><td>{{token}}</td><td>{{takeovers}}</td><td>{{started}}</td><td>{{lag}}</td><td>{{duration}}</td><td>{{error}}</td></tr>
    {{/runs}}
    </tbody>
    </table>
    """
}

"""The web UI of `orchestra serve`: server-rendered pages (Jinja2) with a little vanilla
JavaScript, every asset served from the package, nothing from the network.

Paths (the API owns `/suite-runs`, `/processes`...; the pages live under `/ui`):

    /                                   303 to /ui/suite-runs
    /ui/sign-in          GET, POST      the sign-in form (POST: the API token) -> session cookie
    /ui/sign-out         POST           drops the session cookie
    /ui/suite-runs       GET            suite runs, newest first (?status=&suite=&process=&before=)
    /ui/suite-runs       POST           start a run (form: suite, environment, data_set)
    /ui/suite-runs/{id}  GET            one suite run, live (ui-b: live.py)
    /ui/suite-runs/{id}/cancel  POST    cancel it, back to where the form said (`next`)
    /ui/suite-runs/{id}/rerun   POST    run its failures again, to the new run's page
    /ui/test-runs/{id}   GET            one test run with its steps (ui-b: live.py)
    /ui/processes        GET            processes, latest version of each
    /ui/processes/{key}  GET            one process (?version=N): versions, diagram
    /ui/suites           GET            suites with their coverage figures
    /ui/suites/{id}      GET            one suite's coverage view
    /ui/environments     GET            environments, secrets as the API shows them
    /ui/data-sets        GET            data sets with their first rows
    /ui/static/{file}    GET            web.css, web.js, ... (open: they hold no data)

Pages extend `templates/base.html.jinja` (blocks `title`, `content`, `scripts`). A page
handler depends on `Viewer` (`auth.signed_in`): without a session cookie (when the server has
a token) it redirects to the sign-in page. The JSON API accepts the same cookie besides the
bearer token; a POST, PUT, PATCH or DELETE carried by the cookie, and every form the pages
post, must come from this origin (`Origin`, else `Referer`) or is refused (403).
"""

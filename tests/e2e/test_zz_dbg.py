import time, pytest
from tests.security.world import build_world, set_outbox_key, ADMIN_EMAIL, PASSWORD
from tests.e2e.test_accessibility import page_urls, _html_only, extra_public
from tests.e2e.conftest import axe_violations
pytestmark = pytest.mark.e2e

def test_dbg(live_server, browser):
    t=time.time()
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    world = live_server.run(lambda s: build_world(s, settings))
    public, editor = page_urls(live_server.app, world)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    print("ctx", time.time()-t, flush=True)
    visits = _html_only(context, live_server.url, public)
    print("html", len(visits), time.time()-t, flush=True)
    page = context.new_page()
    for v in visits + extra_public(world):
        page.goto(live_server.url + v.url)
        if v.action: v.action(page)
        print("goto", v.name, time.time()-t, flush=True)
        print(axe_violations(page))
        print("axe", v.name, time.time()-t, flush=True)
    context.close()

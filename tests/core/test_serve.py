"""`market serve` as people run it: several worker processes sharing one database."""

import http.cookiejar
import json
import signal
import urllib.request

from tests.serve import serving
from tests.world import PASSWORD


def _opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


async def test_workers_share_sessions_through_the_database(database, world, tmp_path):
    with serving(database, tmp_path, workers=2, MARKET_LOG_FORMAT="json") as (base, proc):
        opener, jar = _opener()
        opener.open(f"{base}/health")
        token = next(c.value for c in jar if c.name == "market_csrf")
        login = urllib.request.Request(
            f"{base}/api/session", method="POST", headers={"content-type": "application/json", "x-csrftoken": token},
            data=json.dumps({"email": world["buyer_admin"].email, "password": PASSWORD}).encode())
        assert opener.open(login).status == 201
        # a new connection per request, so both workers get to answer
        for _ in range(30):
            opener.addheaders = [("Connection", "close")]
            me = json.loads(opener.open(f"{base}/api/me").read())
            assert me["user_id"] == world["buyer_admin"].user_id
        page = opener.open(f"{base}/needs").read()
        head = opener.open(urllib.request.Request(f"{base}/needs", method="HEAD"))
        assert head.status == 200 and head.read() == b"" and int(head.headers["content-length"]) == len(page)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    # structured logs: one JSON line per request, each with its request id
    requests = [json.loads(line) for line in out.decode().splitlines()
                if line.startswith("{") and '"event": "request"' in line]
    assert len([r for r in requests if r["path"] == "/api/me"]) == 30
    assert all(len(r["request_id"]) == 32 and r["status"] for r in requests)
    assert [r["method"] for r in requests if r["path"] == "/needs"] == ["GET", "HEAD"]

#!/usr/bin/env python3
"""Reads every env block that `cargo run -p kommo --example env_cases -- DIR` wrote back with the real parsers of
the tools it is meant for, and compares what each parser got with the exact values the block was made from.

    check.py DIR MODULES_DIR PYTHON

DIR holds cases.json (the values of each case, and per format the file written or the refusal, and the render's
notices: which variable which reader will read differently) and the rendered files. MODULES_DIR holds the pinned
npm parsers (node_modules/), PYTHON is the interpreter with the pinned python-dotenv.

For each parser and format a case passes when the parser defines exactly the block's variables (never one more,
never one fewer unless the render said so) and reads every value exactly, except where the render flagged that
variable for that parser. A realistic case must be neither flagged nor refused. Exits 1 on any failure.
"""

import concurrent.futures
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
VERBOSE = os.environ.get("KOMMO_ENV_PARSERS_VERBOSE") == "1"


class ReadError(Exception):
    """The parser rejected the whole file."""


def clean_env(**extra):
    """A near-empty environment, so a reader sees nothing but the block (and expansion looks up nothing real)."""
    env = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
    env.update(extra)
    return env


def run(argv, env=None, stdin=None, timeout=30):
    p = subprocess.run(argv, env=env if env is not None else clean_env(), input=stdin, capture_output=True,
                       timeout=timeout)
    return p


def env0(blob):
    """Parse `env -0` output."""
    out = {}
    for item in blob.split(b"\0"):
        if not item:
            continue
        k, _, v = item.partition(b"=")
        out[k.decode("utf-8", "surrogateescape")] = v.decode("utf-8", "surrogateescape")
    return out


# ---- readers -------------------------------------------------------------------------------------------------

def shell_source(shell):
    """`set -a; . FILE` in SHELL, then the environment the shell exports, less what it exports for an empty file."""

    def base():
        p = run([shell, "-c", 'set -a; . "$1"; exec env -0', "sh", os.devnull])
        return set(env0(p.stdout))

    baseline = base()

    def read(path):
        p = run([shell, "-c", 'set -a; . "$1"; exec env -0', "sh", path])
        if p.returncode != 0:
            raise ReadError(p.stderr.decode(errors="replace").strip()[-300:])
        got = env0(p.stdout)
        return {k: v for k, v in got.items() if k not in baseline}

    return read


NODE_DUMP = "process.stdout.write(JSON.stringify(process.env))"
NODE_BASE = {}


def node_env_file(path):
    code = NODE_DUMP
    if not NODE_BASE:
        NODE_BASE.update(json.loads(run(["node", "--env-file=" + os.devnull, "-e", code]).stdout or b"{}"))
        NODE_BASE.setdefault("PATH", "")
    base = NODE_BASE
    p = run(["node", "--env-file=" + path, "-e", code])
    if p.returncode != 0:
        raise ReadError(p.stderr.decode(errors="replace").strip()[-300:])
    got = json.loads(p.stdout)
    return {k: v for k, v in got.items() if k not in base}


class JsReaders:
    """dotenv, dotenv-expand and @next/env, one node process per file (Next.js keeps state in process.env)."""

    def __init__(self, modules):
        self.modules = modules
        self.cache = {}
        self.lock = threading.Lock()

    def all(self, path):
        with self.lock:
            if path in self.cache:
                return self.cache[path]
        p = run(["node", os.path.join(HERE, "read-js.cjs"), self.modules, path])
        res = json.loads(p.stdout) if p.returncode == 0 else {"!error": p.stderr.decode(errors="replace")[-300:]}
        with self.lock:
            self.cache[path] = res
        return res

    def reader(self, key):
        def read(path):
            res = self.all(path)
            if "!error" in res:
                raise ReadError(res["!error"])
            got = res[key]
            if "!error" in got:
                raise ReadError(got["!error"])
            return got

        return read


PY_READ = r"""
import json, logging, sys
import dotenv
warnings = []
class H(logging.Handler):
    def emit(self, record):
        warnings.append(record.getMessage())
logging.getLogger("dotenv.main").addHandler(H())
logging.getLogger("dotenv.main").propagate = False
out = {}
for path in sys.argv[1:]:
    warnings.clear()
    try:
        out[path] = {"values": dict(dotenv.dotenv_values(path)), "warnings": list(warnings)}
    except Exception as e:
        out[path] = {"error": repr(e)}
print(json.dumps(out))
"""


class PythonDotenv:
    """python-dotenv's dotenv_values() (interpolation on, as by default), all files in one process."""

    def __init__(self, python, paths):
        self.python = python
        self.paths = paths
        self.res = None

    def read(self, path):
        if self.res is None:
            p = run([self.python, "-c", PY_READ, *self.paths], timeout=60)
            if p.returncode != 0:
                raise ReadError(p.stderr.decode(errors="replace")[-300:])
            self.res = json.loads(p.stdout)
        r = self.res[path]
        if "error" in r:
            raise ReadError(r["error"])
        # A statement python-dotenv could not parse shows as missing or wrong variables; a key without `=` as None.
        return {k: ("<no value>" if v is None else v) for k, v in r["values"].items()}


def read_json(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ReadError("not an object of strings")
    return data


class FakeDocker:
    """A Docker Engine API stand-in on a unix socket: answers /_ping and keeps the JSON body of each
    POST /containers/create, whose Env holds what the real docker CLI parsed from --env-file."""

    def __init__(self, sock):
        self.sock = sock
        self.bodies = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, code, body, ctype="application/json", head=False):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Api-Version", "1.47")
                self.send_header("Ostype", "linux")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not head:
                    self.wfile.write(data)

            def do_HEAD(self):
                self.reply(200 if self.path.endswith("/_ping") else 404, "OK", "text/plain", head=True)

            def do_GET(self):
                if self.path.endswith("/_ping"):
                    return self.reply(200, "OK", "text/plain")
                self.reply(404, json.dumps({"message": "the fake daemon has no " + self.path}))

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "/containers/create" in self.path and "name=" in self.path:
                    name = self.path.split("name=", 1)[1].split("&", 1)[0]
                    outer.bodies[name] = json.loads(body)
                    return self.reply(409, json.dumps({"message": "fake daemon: request captured"}))
                self.reply(404, json.dumps({"message": "the fake daemon has no " + self.path}))

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def get_request(self):
                conn, _ = super().get_request()
                return conn, ("fake", 0)

        self.server = Server(sock, Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.config = tempfile.mkdtemp(prefix="kommo-docker-config-")

    def read(self, path):
        name = "kommo-" + os.path.basename(path).replace(".", "-")
        env = clean_env(DOCKER_HOST="unix://" + self.sock, DOCKER_CONFIG=self.config, HOME=self.config)
        p = run(["docker", "create", "--name", name, "--env-file", path, "busybox:latest", "true"], env=env)
        if name not in self.bodies:
            raise ReadError((p.stderr or p.stdout).decode(errors="replace").strip()[-300:])
        out = {}
        for item in self.bodies[name].get("Env") or []:
            k, _, v = item.partition("=")
            out[k] = v
        return out


def vercel_stdin(raw):
    """What `vercel env add` keeps of its standard input (packages/cli: readStandardInput takes the first chunk;
    normalizeStdinEnvValue drops one trailing LF or CRLF from a value with no other line break)."""
    for end in ("\r\n", "\n"):
        if raw.endswith(end):
            rest = raw[: -len(end)]
            return raw if ("\n" in rest or "\r" in rest) else rest
    return raw


def gh_stdin(raw):
    """What `gh secret set NAME` keeps of its standard input (pkg/cmd/secret/set: bytes.TrimRight(body, "\\r\\n"))."""
    return raw.rstrip("\r\n")


def run_script(shell, tool, name_at, normalize, values):
    """Run a rendered vercel/gh script with SHELL, fakes first on PATH; the value each command got on stdin."""

    def read(path):
        rec = tempfile.mkdtemp(prefix="kommo-fake-")
        try:
            env = clean_env(PATH=os.path.join(HERE, "fakebin") + ":" + os.environ["PATH"], KOMMO_FAKE_RECORD=rec,
                            HOME=rec)
            p = run([shell, path], env=env)
            if p.returncode != 0:
                raise ReadError(p.stderr.decode(errors="replace").strip()[-300:])
            out = {}
            for f in sorted(os.listdir(rec)):
                if not f.endswith(".argv"):
                    continue
                with open(os.path.join(rec, f), "rb") as fh:
                    argv = [a.decode() for a in fh.read().split(b"\0")[:-1]]
                with open(os.path.join(rec, f[:-5] + ".stdin"), "rb") as fh:
                    raw = fh.read().decode("utf-8", "surrogateescape")
                if not f.startswith(tool + "."):
                    raise ReadError("unexpected program " + f)
                name = argv[name_at]
                # No value ever travels as an argument (ps and shell history would show it).
                for a in argv:
                    for k, v in values.items():
                        if len(v) >= 4 and v in a and a != k:
                            raise ReadError(f"the value of {k} appears in the arguments of {tool}: {argv!r}")
                if tool == "vercel" and raw == "":
                    raise ReadError(f"vercel env add {name} got no standard input: the real CLI would prompt")
                if name in out:
                    raise ReadError(f"{name} set twice")
                out[name] = normalize(raw)
            return out
        finally:
            shutil.rmtree(rec, ignore_errors=True)

    return read


# ---- versions --------------------------------------------------------------------------------------------------

def version_of(argv, env=None):
    try:
        p = run(argv, env=env)
        return (p.stdout or p.stderr).decode(errors="replace").strip().splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return f"? ({e})"


def npm_version(modules, name):
    with open(os.path.join(modules, "node_modules", name, "package.json")) as f:
        return json.load(f)["version"]


# ---- the check ---------------------------------------------------------------------------------------------------

def short(s, n=60):
    r = repr(s)
    return r if len(r) <= n else r[: n - 3] + "..."


def main():
    work, modules, python = sys.argv[1:4]
    with open(os.path.join(work, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]

    node_v = version_of(["node", "--version"])
    if not node_v.startswith("v") or tuple(int(x) for x in node_v[1:].split(".")[:2]) < (20, 6):
        print(f"node {node_v} has no --env-file (needs 20.6 or later)", file=sys.stderr)
        return 1
    dotenv_files = [os.path.join(work, c["formats"]["dotenv"]["file"]) for c in cases
                    if "file" in c["formats"]["dotenv"]]
    js = JsReaders(modules)
    py = PythonDotenv(python, dotenv_files)
    sock_dir = tempfile.mkdtemp(prefix="kommo-dockerd-")
    docker = FakeDocker(os.path.join(sock_dir, "docker.sock"))
    py_v = version_of([python, "-c", "import importlib.metadata as m; print(m.version('python-dotenv'))"])
    bash_v = version_of(["bash", "-c", "echo $BASH_VERSION"])
    dash_v = version_of(["dpkg-query", "-W", "-f", "${Version}", "dash"])
    docker_v = version_of(["docker", "version", "--format", "{{.Client.Version}}"],
                          env=clean_env(DOCKER_HOST="unix://" + docker.sock, DOCKER_CONFIG=docker.config))

    # (format, reader key as the render names it, label, version, read function or a factory of one per case)
    readers = [
        ("dotenv", "python-dotenv", "python-dotenv", py_v, py.read),
        ("dotenv", "dotenv", "dotenv (npm)", npm_version(modules, "dotenv"), js.reader("dotenv")),
        ("dotenv", "dotenv-expand", "dotenv-expand", npm_version(modules, "dotenv-expand"),
         js.reader("dotenv-expand")),
        ("dotenv", "next-env", "@next/env", npm_version(modules, "@next/env"), js.reader("next-env")),
        ("dotenv", "node-env-file", "node --env-file", node_v, node_env_file),
        ("dotenv", "bash", "bash set -a; .", bash_v, shell_source("bash")),
        ("dotenv", "sh", "sh (dash) set -a; .", dash_v, shell_source("sh")),
        ("shell", "bash", "bash .", bash_v, shell_source("bash")),
        ("shell", "sh", "sh (dash) .", dash_v, shell_source("sh")),
        ("json", "json", "json.load", sys.version.split()[0], read_json),
        ("docker", "docker", "docker --env-file", "CLI " + docker_v, docker.read),
        ("vercel", "vercel", "vercel env add (sh)", "fake, CLI rules", ("sh", "vercel", 2, vercel_stdin)),
        ("vercel", "vercel", "vercel env add (bash)", "fake, CLI rules", ("bash", "vercel", 2, vercel_stdin)),
        ("github", "gh", "gh secret set (sh)", "fake, CLI rules", ("sh", "gh", 2, gh_stdin)),
        ("github", "gh", "gh secret set (bash)", "fake, CLI rules", ("bash", "gh", 2, gh_stdin)),
    ]

    def check(reader, case):
        fmt, key, _label, _v, read = reader
        want = dict(case["values"])
        spec = case["formats"][fmt]
        if "refused" in spec:
            if case["realistic"]:
                return "fail", [f"{case['id']}: a realistic case is refused: {spec['refused']}"], set()
            if not spec["refused"]:
                return "fail", [f"{case['id']}: refused without naming a variable"], set()
            if VERBOSE:
                print(f"  {fmt}/{key} {case['id']}: refused {spec['refused']}", file=sys.stderr)
            return "refused", [], {p["hazard"] for p in spec["refused"]}
        if isinstance(read, tuple):
            read = run_script(*read, want)
        flagged = {n["variable"] for n in spec["notices"] if key in n["readers"]}
        problems = []
        if case["realistic"] and any(n["hazard"] != "empty" for n in spec["notices"]):
            problems.append(f"{case['id']}: a realistic case has notices: {spec['notices']}")
        try:
            got = read(os.path.join(work, spec["file"]))
        except ReadError as e:
            return "fail", problems + [f"{case['id']}: the file was rejected: {e}"], set()
        except Exception as e:  # noqa: BLE001
            return "fail", problems + [f"{case['id']}: {type(e).__name__}: {e}"], set()
        differ = exact_flagged = 0
        lost = set()
        for k in got:
            if k not in want:
                problems.append(f"{case['id']}: defines {k}={short(got[k])}, which the block does not define")
        for k, v in want.items():
            if got.get(k) == v:
                exact_flagged += k in flagged
                continue
            if k in flagged:
                differ += 1
                lost.update(n["hazard"] for n in spec["notices"] if key in n["readers"] and n["variable"] == k)
            elif k not in got:
                problems.append(f"{case['id']}: {k} is missing (want {short(v)})")
            else:
                problems.append(f"{case['id']}: {k} reads {short(got[k])}, want {short(v)}")
        if problems:
            return "fail", problems, set()
        if VERBOSE and (differ or exact_flagged):
            print(f"  {fmt}/{key} {case['id']}: {differ} read differently, {exact_flagged} flagged yet exact",
                  file=sys.stderr)
        # A flag the parser did not need is no failure (the page says a little too much), but it is counted.
        return ("flagged" if differ else "pass"), ["over"] * exact_flagged, {"~" + h for h in lost}

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {(i, j): pool.submit(check, r, c) for i, r in enumerate(readers) for j, c in enumerate(cases)}
        for (i, j), fut in futures.items():
            results.setdefault(i, []).append(fut.result())

    total_pass = total_fail = 0
    details = []
    for i, r in enumerate(readers):
        fmt, _key, label, version, _ = r
        res = results[i]
        passed = sum(1 for s, _, _ in res if s in ("pass", "flagged", "refused"))
        failed = sum(1 for s, _, _ in res if s == "fail")
        over = sum(len(p) for s, p, _ in res if s != "fail")
        flagged = sum(1 for s, _, _ in res if s == "flagged")
        refused = sum(1 for s, _, _ in res if s == "refused")
        classes = set().union(*(c for _, _, c in res))
        total_pass += passed
        total_fail += failed
        print(f"{fmt:7} {label:22} {version:18} {passed:3} passed, {failed} failed  "
              f"({flagged} read differently as flagged, {over} flagged yet exact, {refused} refused)")
        # The value classes this parser's grammar cannot carry, as this run saw them: flagged (read differently,
        # and the render said so) or refused (the render wrote nothing).
        differs = sorted(c[1:] for c in classes if c.startswith("~"))
        refuses = sorted(c for c in classes if not c.startswith("~"))
        print(f"{'':8}cannot carry: {', '.join(differs) or '-'} (flagged); "
              f"{', '.join(refuses) or '-'} (the format refuses)")
        for s, probs, _ in res:
            if s == "fail":
                details.extend(f"  {fmt}/{label}: {p}" for p in probs)
    shutil.rmtree(sock_dir, ignore_errors=True)
    if details:
        print("\nFailures:")
        print("\n".join(details))
    print(f"env-parsers: {total_pass} passed, {total_fail} failed")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())

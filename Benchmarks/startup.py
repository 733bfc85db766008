#!/usr/bin/env python3
"""Start-up benchmark: launch to first prompt (on a pseudo-terminal), launch to the first request byte
in one-shot mode (a loopback socket records when the request arrives), and `python3 -c "import openai"`
as the baseline where that package is installed. Prints one JSON object of medians in milliseconds.

Usage: startup.py AGENT_REPL_BINARY [RUNS]
"""
import json, os, pty, select, socket, statistics, subprocess, sys, tempfile, threading, time


def launch_to_prompt(binary, env, arguments=("--demo",)):
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(binary, [binary, *arguments], env)
    seen = b""
    elapsed = None
    deadline = start + 20
    while time.perf_counter() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
            if b"> " in seen:
                elapsed = time.perf_counter() - start
                break
    # A ^D sent before the line editor sets up the terminal can be flushed away: repeat it until the
    # REPL exits, then kill it after a few seconds rather than hang.
    end = time.perf_counter() + 5
    while True:
        try:
            os.write(fd, b"\x04")
        except OSError:
            pass
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > end:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                os.read(fd, 4096)
            except OSError:
                pass
    os.close(fd)
    return elapsed


def launch_to_request_byte(binary, env):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    arrived = {}

    def accept():
        conn, _ = server.accept()
        conn.recv(1)
        arrived["t"] = time.perf_counter()
        conn.close()

    t = threading.Thread(target=accept)
    t.start()
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "--base-url", "http://127.0.0.1:%d/v1" % port, "-p", "hi"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.join(20)
    proc.kill()
    proc.wait()
    server.close()
    return arrived.get("t", start) - start


def python_import_openai():
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", "import openai"], capture_output=True)
    return time.perf_counter() - start if r.returncode == 0 else None


def main():
    binary = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    home = tempfile.mkdtemp()
    os.chdir(home)  # an empty working folder: no project tools.d or .env, so no trust question
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8", "TERM": "xterm"}
    prompt = [launch_to_prompt(binary, env) for _ in range(runs)]
    request = [launch_to_request_byte(binary, env) for _ in range(runs)]
    baseline = [python_import_openai() for _ in range(runs)]
    ms = lambda xs: round(statistics.median(xs) * 1000, 1) if xs and all(x is not None for x in xs) else None
    print(json.dumps({"launch_to_prompt_ms": ms(prompt), "launch_to_request_byte_ms": ms(request),
                      "python_import_openai_ms": ms(baseline), "runs": runs}))


if __name__ == "__main__":
    main()

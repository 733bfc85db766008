#!/usr/bin/env python3
"""Forks a child, which forks a grandchild; all three loop (20 ms naps, no other forks, so /proc shows
each one's own state) until the file $RELEASE exists. Once all three run, writes
"<tool pid> <child pid> <grandchild pid>" to $PIDFILE. Prints "released" after the other two ended."""
import os, time

release = os.environ["RELEASE"]


def loop():
    while not os.path.exists(release):
        time.sleep(0.02)


r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(r)
    grandchild = os.fork()
    if grandchild == 0:
        os.close(w)
        loop()
        os._exit(0)
    os.write(w, ("%d %d" % (os.getpid(), grandchild)).encode())
    os.close(w)
    loop()
    os.waitpid(grandchild, 0)
    os._exit(0)
os.close(w)
family = os.read(r, 100).decode()
os.close(r)
pidfile = os.environ["PIDFILE"]
with open(pidfile + ".tmp", "w") as f:
    f.write("%d %s" % (os.getpid(), family))
os.rename(pidfile + ".tmp", pidfile)
loop()
os.waitpid(child, 0)
print("released", flush=True)

#!/usr/bin/env python3
"""What hostile peers cost a coordinator (issue 19, findings 1 and 2; net/front.hpp).

For each binary given (e.g. one built before net/ and one after), in turn:
  header  RSS growth (VmHWM, peak) of a coordinator waiting for nodes on --insecure after one
          32-byte BASP header announcing 4 GiB;
  random  the same after 50 connections of 4 KiB random bytes;
  idle-N  CPU seconds the coordinator (TLS, waiting for nodes) burns in 5 s while N TCP
          peers hold connections open and send nothing;
  train   samples/s of a TLS job (linreg, one node) with 0 and with 200 idle TCP peers
          opened before the node joins.
Usage: bench/front_door.py TETHER_BINARY... (certificates come from deploy/make-certs.sh)
"""
import os, re, signal, socket, struct, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(binary, args, log):
    return subprocess.Popen([binary, "coordinator", "--listen=127.0.0.1:0", *args,
                             "--dataset=linreg"], stdout=log, stderr=subprocess.STDOUT)


def port_of(path):
    for _ in range(400):
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(path).read())
        if m:
            return int(m.group(1))
        time.sleep(0.05)
    raise SystemExit("front_door: the coordinator did not start listening; see " + path)


def status_kib(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return -1


def cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def memory_case(binary, work, payload):
    log_path = os.path.join(work, "log")
    with open(log_path, "w") as log:
        proc = start(binary, ["--insecure"], log)
        port = port_of(log_path)
        time.sleep(0.3)
        before = status_kib(proc.pid, "VmHWM")
        socks = []
        for chunk in payload:
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(chunk)
            socks.append(s)
        time.sleep(1.5)
        after = status_kib(proc.pid, "VmHWM") if proc.poll() is None else -1
        for s in socks:
            s.close()
        stop(proc)
    return (after - before) / 1024 if after >= 0 else float("nan")


def idle_case(binary, work, certs, n):
    log_path = os.path.join(work, "log")
    with open(log_path, "w") as log:
        proc = start(binary, ["--tls-dir=" + os.path.join(certs, "coordinator")], log)
        port = port_of(log_path)
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
        time.sleep(0.5)
        c0 = cpu_s(proc.pid)
        time.sleep(5)
        c1 = cpu_s(proc.pid)
        for s in socks:
            s.close()
        stop(proc)
    return c1 - c0


def train_case(binary, work, certs, n):
    log_path = os.path.join(work, "log")
    with open(log_path, "w") as log, open(os.devnull, "w") as quiet:
        proc = subprocess.Popen([binary, "coordinator", "--listen=127.0.0.1:0",
                                 "--tls-dir=" + os.path.join(certs, "coordinator"),
                                 "--dataset=linreg", "--epochs=100",
                                 "--checkpoint-dir=" + os.path.join(work, "ck")],
                                stdout=log, stderr=subprocess.STDOUT)
        port = port_of(log_path)
        socks = []
        for _ in range(n):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port)))
            except OSError:
                break
        node = subprocess.Popen([binary, "node", f"--join=127.0.0.1:{port}",
                                 "--tls-dir=" + os.path.join(certs, "n1")],
                                stdout=quiet, stderr=subprocess.STDOUT)
        try:
            node.wait(300)  # the job is over for the node; the peers leave only then (an
        finally:            # old coordinator waits for them before it exits)
            for s in socks:
                s.close()
            proc.wait(60)
    m = re.search(r"= ([0-9,]+) samples/s", open(log_path).read())
    return int(m.group(1).replace(",", "")) if m else float("nan")


def main():
    binaries = sys.argv[1:]
    if not binaries:
        raise SystemExit(__doc__)
    work = tempfile.mkdtemp()
    certs = os.path.join(work, "tls")
    subprocess.run(["bash", os.path.join(ROOT, "deploy/make-certs.sh"), certs, "coordinator", "n1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    header = bytes([1, 0, 0, 0]) + struct.pack(">I", 0xFFFFFFFF) + bytes(24)
    rnd = [os.urandom(4096) for _ in range(50)]
    print(f"front_door: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} cores, load {open('/proc/loadavg').read().split()[0]}")
    print("| binary | 4 GiB header: peak RSS growth MB | 50 random: peak RSS growth MB "
          "| CPU s in 5 s, 1 idle TLS peer | CPU s in 5 s, 50 idle TLS peers "
          "| samples/s, 0 idle | samples/s, 200 idle |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for b in binaries:
        h = memory_case(b, work, [header])
        r = memory_case(b, work, rnd)
        i1 = idle_case(b, work, certs, 1)
        i50 = idle_case(b, work, certs, 50)
        t0 = train_case(b, work, certs, 0)
        t200 = train_case(b, work, certs, 200)
        print(f"| {b} | {h:.1f} | {r:.1f} | {i1:.2f} | {i50:.2f} | {t0:,} | {t200:,} |")


if __name__ == "__main__":
    main()

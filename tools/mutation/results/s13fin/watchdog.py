"""Send SIGXCPU (mutmut's own CPU-limit signal) to a mutant's forked test process once it has used
LIMIT CPU seconds. Usage: watchdog.py MUTMUT_MAIN_PID LIMIT LOGFILE. Only children of that pid."""
import os, signal, sys, time
main, limit, logf = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
tick = os.sysconf("SC_CLK_TCK")
seen = set()
while os.path.exists(f"/proc/{main}"):
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = open(f"/proc/{p}/stat").read()
        except OSError:
            continue
        f = st.rsplit(")", 1)[1].split()
        ppid, ut, stime = int(f[1]), int(f[11]), int(f[12])
        if ppid != main:
            continue
        cpu = (ut + stime) / tick
        if cpu > limit and int(p) not in seen:
            try:
                os.kill(int(p), signal.SIGXCPU)
                seen.add(int(p))
                with open(logf, "a") as fh:
                    fh.write(f"{time.strftime('%H:%M:%S')} SIGXCPU to {p} after {cpu:.0f} CPU s\n")
            except OSError:
                pass
    time.sleep(3)

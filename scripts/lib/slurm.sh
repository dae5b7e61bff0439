# Starts and stops a throwaway Slurm cluster on 127.0.0.1 for tests: munged,
# slurmctld, three always-on nodes n1-n3 (partition "debug") and two power-saving
# CLOUD nodes c1-c2 (partition "cloud"), all slurmd's on this host
# (MULTIPLE_SLURMD). Everything lives in one scratch folder; nothing of the
# machine's own Slurm or munge configuration is used or changed. Runs as root.
#
# Source this file, call slurm_start (exports SLURM_CONF, TARN_TEST_SLURM_ROOT and
# TARN_TEST_SLURMRESTD, the UNIX socket of a slurmrestd for the cluster), and
# slurm_stop when done. TARN_BIN names the tarn binary the nodes' health
# check runs (`tarn node check --drain`) and the nodes' file services run (`tarn node
# serve`, exporting TARN_TEST_NODE_SCRATCH); without it there are neither.
#
# In the scratch folder: etc/slurm.conf, munge/ (own key and socket), state/,
# spool/<node>/, run/ (pid files), log/, tmp/<node>/ (each node's temp folder, which
# its health check inspects), lake/ (the lake root the health check reads), bin/
# (the health check and the power-saving Resume/Suspend programs, which start and
# stop local slurmd's).

_slurm_log() { printf '[test] %s\n' "$*" >&2; }

_slurm_write_conf() {
  local root="$1" port="$2" host
  host="$(hostname -s)"
  cat >"$root/etc/slurm.conf" <<EOF
ClusterName=tarntest
MailProg=/bin/true
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$root/munge/munge.socket.2,cred_expire=10
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$root/state
SlurmdSpoolDir=$root/spool/%n
SlurmctldPidFile=$root/run/slurmctld.pid
SlurmdPidFile=$root/run/slurmd-%n.pid
SlurmctldLogFile=$root/log/slurmctld.log
SlurmdLogFile=$root/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
PrivateData=cloud
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,bf_interval=1
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SlurmdTimeout=10
SlurmctldTimeout=10
MessageTimeout=5
InactiveLimit=0
KillWait=5
MinJobAge=600
HealthCheckProgram=$root/bin/healthcheck
HealthCheckInterval=5
HealthCheckNodeState=ANY
SuspendProgram=$root/bin/suspend
ResumeProgram=$root/bin/resume
SuspendTime=40
SuspendTimeout=10
ResumeTimeout=60
SuspendExcNodes=n[1-3]
CommunicationParameters=NoAddrCache
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port + 11)) CPUs=2 RealMemory=1000 State=UNKNOWN
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port + 12)) CPUs=2 RealMemory=1000 State=UNKNOWN
NodeName=n3 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port + 13)) CPUs=2 RealMemory=1000 State=UNKNOWN
NodeName=c1 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port + 21)) CPUs=2 RealMemory=1000 State=CLOUD
NodeName=c2 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port + 22)) CPUs=2 RealMemory=1000 State=CLOUD
PartitionName=debug Nodes=n[1-3] Default=YES MaxTime=INFINITE State=UP
PartitionName=cloud Nodes=c[1-2] Default=NO MaxTime=INFINITE State=UP
EOF
}

_slurm_write_programs() {
  local root="$1" tarn="${TARN_BIN:-}"
  if [ -n "$tarn" ]; then
    cat >"$root/bin/healthcheck" <<EOF
#!/bin/sh
# HealthCheckProgram: Tarn's node check, draining this node (and requeueing its jobs)
# when unhealthy and returning it to service when healthy again.
export SLURM_CONF="$root/etc/slurm.conf"
exec "$tarn" node check --drain --lake "$root/lake" --temp-dir "$root/tmp/\${SLURMD_NODENAME:-unknown}" \\
  --json >>"$root/log/healthcheck.log" 2>&1
EOF
  else
    printf '#!/bin/sh\nexit 0\n' >"$root/bin/healthcheck"
  fi
  # Resume/SuspendProgram: Tarn's own, starting and stopping local slurmd's for the
  # CLOUD nodes (a real cluster gives `--command` its provider's program instead).
  local verb
  for verb in resume suspend; do
    if [ -n "$tarn" ]; then
      printf '#!/bin/sh\nexport SLURM_CONF="%s"\nexec "%s" node %s "$1" --local-slurmd </dev/null >>"%s" 2>&1\n' \
        "$root/etc/slurm.conf" "$tarn" "$verb" "$root/log/power.log" >"$root/bin/$verb"
    else
      printf '#!/bin/sh\nexit 0\n' >"$root/bin/$verb"
    fi
  done
  chmod 755 "$root/bin/healthcheck" "$root/bin/resume" "$root/bin/suspend"
}

# Stops the processes whose pid files are given and waits (up to 15 s) for them to end.
_slurm_stop_pids() {
  local pids="" p f i alive
  for f in "$@"; do
    if [ -s "$f" ] && p="$(cat "$f")" && kill "$p" 2>/dev/null; then pids="$pids $p"; fi
  done
  for i in $(seq 150); do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && return 0
    sleep 0.1
  done
  for p in $alive; do kill -9 "$p" 2>/dev/null || true; done
}

slurm_start() {
  if [ "$(id -u)" -ne 0 ]; then
    _slurm_log "the test Slurm cluster needs root (slurmd runs jobs as their users); skipping it"
    return 0
  fi
  local root port i idle
  root="$(mktemp -d /tmp/tarn-slurm.XXXXXX)"
  chmod 755 "$root"
  mkdir -p "$root"/{etc,munge,state,run,log,bin,lake} "$root"/tmp/{n1,n2,n3,c1,c2} "$root"/spool/{n1,n2,n3,c1,c2}
  # Below the kernel's ephemeral range: a port the tests' servers (port 0) or any
  # outgoing connection were given there would keep a slurmd from binding its own.
  local ephemeral
  ephemeral="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  [ "${ephemeral:-0}" -gt 11100 ] 2>/dev/null || ephemeral=32768
  port=$((10000 + RANDOM % (ephemeral - 11100)))
  _slurm_write_conf "$root" "$port"
  _slurm_write_programs "$root"
  dd if=/dev/urandom of="$root/munge/munge.key" bs=1024 count=1 status=none
  chown -R munge:munge "$root/munge" && chmod 0755 "$root/munge" && chmod 0400 "$root/munge/munge.key"
  runuser -u munge -- /usr/sbin/munged --socket="$root/munge/munge.socket.2" --key-file="$root/munge/munge.key" \
    --pid-file="$root/munge/munged.pid" --log-file="$root/munge/munged.log" --seed-file="$root/munge/munged.seed" ||
    { _slurm_log "munged did not start"; return 1; }
  for i in $(seq 50); do [ -S "$root/munge/munge.socket.2" ] && break; sleep 0.1; done
  export SLURM_CONF="$root/etc/slurm.conf" TARN_TEST_SLURM_ROOT="$root"
  SLURM_ROOT_FOR_STOP="$root"
  /usr/sbin/slurmctld || { _slurm_log "slurmctld did not start"; cat "$root/log/slurmctld.log" >&2; return 1; }
  for n in n1 n2 n3; do mkdir -p "$root/spool/$n"; /usr/sbin/slurmd -N "$n" </dev/null; done
  for i in $(seq 300); do
    idle="$(sinfo -h -p debug -t idle -o '%D' 2>/dev/null || true)"
    [ "${idle:-0}" = 3 ] && break
    sleep 0.1
  done
  if [ "${idle:-0}" != 3 ]; then
    _slurm_log "the Slurm nodes did not come up:"; sinfo >&2 || true
    return 1
  fi
  # slurmrestd on a UNIX socket, authenticating callers by the socket (rest_auth/local).
  # It refuses root unless told otherwise; the tests run as root.
  SLURMRESTD_SECURITY=disable_user_check /usr/sbin/slurmrestd -a rest_auth/local -s openapi/v0.0.38 \
    "unix:$root/run/slurmrestd.socket" </dev/null >>"$root/log/slurmrestd.log" 2>&1 &
  echo $! >"$root/run/slurmrestd.pid"
  for i in $(seq 50); do [ -S "$root/run/slurmrestd.socket" ] && break; sleep 0.1; done
  [ -S "$root/run/slurmrestd.socket" ] || { _slurm_log "slurmrestd did not start"; cat "$root/log/slurmrestd.log" >&2; return 1; }
  export TARN_TEST_SLURMRESTD="$root/run/slurmrestd.socket"
  # Each always-on node's file service (`tarn node serve`): map tasks there write the
  # shuffle on the node's own scratch ($root/nodes/<node>) and the others fetch it.
  if [ -n "${TARN_BIN:-}" ]; then
    for n in n1 n2 n3; do
      "$TARN_BIN" node serve --scratch "$root/nodes/$n" --listen 127.0.0.1:0 --advertise 127.0.0.1 \
        </dev/null >>"$root/log/nodefiles-$n.log" 2>&1 &
      echo $! >"$root/run/nodefiles-$n.pid"
    done
    for n in n1 n2 n3; do
      for i in $(seq 100); do [ -s "$root/nodes/$n/service.json" ] && break; sleep 0.1; done
      [ -s "$root/nodes/$n/service.json" ] || { _slurm_log "the file service of $n did not start"; cat "$root/log/nodefiles-$n.log" >&2; return 1; }
    done
    export TARN_TEST_NODE_SCRATCH="$root/nodes/%n"
  fi
  _slurm_log "Slurm cluster running (SLURM_CONF=$SLURM_CONF): n1-n3 idle, c1-c2 powered down, slurmrestd"
}

slurm_stop() {
  local root="${SLURM_ROOT_FOR_STOP:-}"
  [ -n "$root" ] && [ -d "$root/run" ] || return 0
  _slurm_stop_pids "$root/run/slurmrestd.pid"
  _slurm_stop_pids "$root"/run/nodefiles-*.pid
  _slurm_stop_pids "$root"/run/slurmd-*.pid
  _slurm_stop_pids "$root/run/slurmctld.pid"
  _slurm_stop_pids "$root/munge/munged.pid"
  # Whatever of this cluster is left (a slurmd a pid file no longer names: one that was
  # started again over a stuck one) goes too, found by its SLURM_CONF.
  local p
  for p in $(pgrep -f '^/usr/sbin/slurmd ' || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_CONF=$root/etc/slurm.conf"; then
      kill -9 "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$root"
  SLURM_ROOT_FOR_STOP=""
  unset TARN_TEST_SLURMRESTD TARN_TEST_NODE_SCRATCH
}

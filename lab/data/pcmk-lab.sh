#!/usr/bin/env bash
# pcmk-lab.sh -- db2ops' real Pacemaker lab: a two-node Pacemaker/corosync cluster plus a
# corosync-qnetd quorum device host on ONE Debian 12 machine, as root, without systemd or containers.
#
#   bridge ${PREFIX}br0 10.99.0.1/24 in the root namespace (the test client side; no route out); with
#                     `start-aws` also the EC2 emulation on 10.99.0.1:4566 (moto, lab/pcmk_aws.py)
#   db2a  10.99.0.11  corosync, corosync-qdevice, pacemakerd, sshd, stand-in db2pd/db2cm/db2 and the
#                     stand-in ocf:heartbeat:db2hadr agent; Pacemaker's PATH starts with the `curl`
#                     metadata shim and the `aws-lab` wrapper for Debian's real aws-vpc-move-ip
#   db2b  10.99.0.12  same; both nodes also have the instance owner db2inst1 (group db2iadm1, home
#                     /home/db2inst1) with password-less ssh between the nodes, as the runbook sets up
#   qnetd 10.99.0.13  corosync-qnetd, sshd
# Each host has its own network, mount and UTS namespace. Its state lives in $LAB_ROOT/hosts/<host>/ and is
# bind-mounted (inside that host's private mount namespace only) over /etc/corosync, /var/lib/{pacemaker,
# corosync}, /var/log/{pacemaker,corosync,crmsh}, /root, /run, /tmp, /etc/hosts (nodes also /home and
# /etc/{passwd,group,shadow}: copies with the instance owner added); /usr/bin/systemctl is a shim and
# /usr/local/bin holds the Db2 stand-ins. Outside $LAB_ROOT, `up` only creates the bridge, veths,
# the named netns and /run/netns (if absent); `down` removes all of it.
#
# Usage (as root):
#   install                      apt-get the Debian packages (fast no-op when present)
#   up | down | status           create (idempotent) / destroy (idempotent) / show
#   exec HOST CMD...             run CMD on HOST over ssh (lab key, lab known_hosts, strict host keys)
#   nsexec HOST CMD...           run CMD inside HOST's namespaces via nsenter (no ssh)
#   crash-node NODE              SIGKILL the node's corosync + pacemaker processes (sshd survives)
#   start-node NODE | stop-node NODE    start / graceful stop of a node's cluster stack
#   stop-qnetd | start-qnetd     the quorum device server
#   promoted                     print the node holding the promoted HADR clone
#   start-aws PYTHON             the lab's EC2 emulation (moto, lab/pcmk_aws.py run by PYTHON) on the bridge
#   wait-promoted NODE|any [TIMEOUT]    wait until NODE (or any node) holds it
# Settings (environment, fixed at `up` and remembered in $LAB_ROOT/lab.env):
#   DB2OPS_PCMK_ROOT (/run/db2ops-pcmk)  DB2OPS_PCMK_PREFIX (d2o)  DB2OPS_PCMK_NET (10.99.0)
#   DB2OPS_PCMK_CLUSTER (pcmk)  DB2OPS_PCMK_KEEP_LOGS (dir to copy daemon logs to on `down`)
set -euo pipefail
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin # root's tools, also when called with a user's PATH

LAB_ROOT=${DB2OPS_PCMK_ROOT:-/run/db2ops-pcmk}
case "$LAB_ROOT" in /*) ;; *) echo "DB2OPS_PCMK_ROOT must be an absolute path" >&2; exit 2 ;; esac
LAB_ROOT=${LAB_ROOT%/}
# settings chosen at `up` stick for the later subcommands
if [ -f "$LAB_ROOT/lab.env" ]; then . "$LAB_ROOT/lab.env"; fi
PREFIX=${PREFIX:-${DB2OPS_PCMK_PREFIX:-d2o}}
NET=${NET:-${DB2OPS_PCMK_NET:-10.99.0}}
CLUSTER_NAME=${CLUSTER_NAME:-${DB2OPS_PCMK_CLUSTER:-pcmk}}
BRIDGE=${PREFIX}br0
INST=db2inst1
INST_GROUP=db2iadm1
DBNAME=HADRDB
TOKEN_MS=3000 # corosync totem token; the cloud setups this lab imitates use >= 3000

NODES=(db2a db2b)
QHOST=qnetd
HOSTS=(db2a db2b qnetd)
declare -A IP=([db2a]=$NET.11 [db2b]=$NET.12 [qnetd]=$NET.13)
declare -A NODEID=([db2a]=1 [db2b]=2)
HADR_RSC=db2_${INST}_${INST}_${DBNAME}
HADR_CLONE=${HADR_RSC}-clone
AWS_PORT=4566 # the EC2 emulation listens on the bridge address $NET.1 (reachable from every lab host)
SSH_DIR=$LAB_ROOT/ssh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3 # the distribution's python: the hosts' /root (and any pyenv in it) is private

PKGS=(pacemaker pacemaker-cli-utils pacemaker-resource-agents corosync corosync-qdevice corosync-qnetd crmsh
  resource-agents openssh-server openssh-client iproute2 util-linux procps libxml2-utils python3 awscli curl
  ncat nftables) # ncat: the HA plan's `nc -v -z` probe (RHEL's nmap-ncat); nft: the tests' firewall seeds

log() { printf '[pcmk-lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
hdir() { echo "$LAB_ROOT/hosts/$1"; }
netns() { echo "$PREFIX-$1"; }
is_node() { [ "$1" = db2a ] || [ "$1" = db2b ]; }
check_host() { [[ " ${HOSTS[*]} " == *" $1 "* ]] || die "unknown host '$1' (hosts: ${HOSTS[*]})"; }
check_node() { is_node "$1" || die "unknown node '$1' (nodes: ${NODES[*]})"; }
holder_pid() { cat "$(hdir "$1")/pids/holder.pid" 2>/dev/null || true; }
alive() { # running and not a zombie (PID 1 here may reap orphans late or never)
  [ -n "${1:-}" ] && [ -d "/proc/$1" ] || return 1
  local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}
dead() { ! alive "${1:-}"; }
pid_of() { cat "$(hdir "$1")/pids/$2.pid" 2>/dev/null || true; }

wait_for() { # timeout_s description cmd...
  local t=$1 desc=$2; shift 2
  local end=$(($(date +%s) + t))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || { log "timeout (${t}s) waiting for: $desc"; return 1; }
    sleep 0.2
  done
}

# run a command inside host $1's net, mount and uts namespaces
hexec() {
  local h=$1; shift
  local hp; hp=$(holder_pid "$h")
  alive "$hp" || die "host $h is not up (no holder process); run: $0 up"
  nsenter -t "$hp" -m -u -n -- "$@"
}

# start a daemon inside host $1 under the name $2, detached, its pid in hosts/$1/pids/$2.pid
hspawn() {
  local h=$1 name=$2; shift 2
  local hp d; hp=$(holder_pid "$h"); d=$(hdir "$h")
  alive "$hp" || die "host $h is not up"
  setsid nsenter -t "$hp" -m -u -n -- "$@" >>"$d/logs/$name.out" 2>&1 </dev/null &
  echo $! >"$d/pids/$name.pid"
}

# TERM the daemon $2 of host $1 and wait up to $3 s, then KILL
stop_daemon() {
  local h=$1 name=$2 t=${3:-30} pid i
  pid=$(pid_of "$h" "$name")
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 5; i++)); do
    alive "$pid" || return 0
    sleep 0.2
  done
  log "$h/$name (pid $pid) ignored SIGTERM for ${t}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_install() {
  local p missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "packages already installed"; return 0; fi
  export DEBIAN_FRONTEND=noninteractive
  # without an init system the postinst scripts must not start corosync/qnetd/sshd in the root namespace
  local tmp_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d; tmp_policy=1
  fi
  local rc=0
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || rc=$?
  [ $tmp_policy = 0 ] || rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || die "apt-get install ${missing[*]} failed (rc $rc)"
  log "installed: ${missing[*]}"
}

preflight() {
  [ "$(id -u)" = 0 ] || die "must run as root (network and mount namespaces need CAP_SYS_ADMIN)"
  local c missing=()
  for c in ip nsenter unshare setsid corosync corosync-keygen pacemakerd crm crm_mon cibadmin crm_attribute \
    corosync-quorumtool corosync-qnetd corosync-qnetd-certutil corosync-qdevice corosync-qdevice-net-certutil \
    ssh ssh-keygen setpriv runuser nc nft; do
    command -v "$c" >/dev/null || missing+=("$c")
  done
  [ -x /usr/sbin/sshd ] || missing+=(sshd)
  [ -x $PY ] || missing+=($PY)
  [ -x /usr/lib/ocf/resource.d/heartbeat/aws-vpc-move-ip ] || missing+=(ocf:heartbeat:aws-vpc-move-ip)
  [ -x /usr/bin/aws ] || missing+=(awscli)
  [ -x /usr/bin/curl ] || missing+=(curl)
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || missing+=(overlayfs)
  [ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || missing+=(ocf:heartbeat:Dummy)
  [ -d /home ] || missing+=(/home) # the nodes mount the instance owner's home over it
  [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} -- run: $0 install"
}

is_up() {
  local h
  [ -f "$LAB_ROOT/up.done" ] || return 1
  for h in "${HOSTS[@]}"; do alive "$(holder_pid "$h")" || return 1; done
}

# ---------------------------------------------------------------- network
net_up() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local h
  for h in "${HOSTS[@]}"; do
    ip netns add "$(netns "$h")"
    ip link add "$(netns "$h")" type veth peer name eth0 netns "$(netns "$h")"
    ip link set "$(netns "$h")" master "$BRIDGE" up
    ip -n "$(netns "$h")" link set lo up
    ip -n "$(netns "$h")" addr add "${IP[$h]}/24" dev eth0
    ip -n "$(netns "$h")" link set eth0 up
  done
}

lab_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true; }

# ---------------------------------------------------------------- host namespaces
mk_host_tree() {
  local h=$1 d x; d=$(hdir "$h")
  mkdir -p "$d"/{pids,logs,etc-corosync,lib-corosync,log-corosync,root/.ssh,ssh,run/sshd}
  install -d -o hacluster -g haclient -m 0775 "$d/log-crmsh"
  install -d -o hacluster -g haclient -m 0750 "$d"/lib-pacemaker/{cib,pengine,blackbox,cores}
  chmod 0755 "$d/lib-pacemaker" "$d/run" "$d/run/sshd"
  install -d -o hacluster -g haclient -m 0770 "$d/log-pacemaker" "$d/log-pacemaker/bundles"
  install -d -m 1777 "$d/tmp"
  install -d -o coroqnetd -g coroqnetd -m 0770 "$d/run/corosync-qnetd"
  install -d -m 0770 "$d/run/corosync-qdevice"
  chmod 0700 "$d/root" "$d/root/.ssh"
  {
    echo "127.0.0.1 localhost"
    echo "::1 localhost ip6-localhost ip6-loopback"
    for x in "${HOSTS[@]}"; do echo "${IP[$x]} $x"; done
  } >"$d/hosts"
  local bin_mount=""
  # nodes: the Db2 stand-ins in /usr/local/bin, and the stand-in db2hadr agent added to the heartbeat
  # provider by a read-only overlay (IBM's agents are ocf:heartbeat:db2hadr; the real ones stay visible)
  local ocf=/usr/lib/ocf/resource.d/heartbeat
  is_node "$h" && bin_mount="mount --bind $LAB_ROOT/node-bin /usr/local/bin
mount -t overlay $PREFIX-ocf -o lowerdir=$LAB_ROOT/ocf-heartbeat:$ocf $ocf
mount --bind $d/passwd /etc/passwd
mount --bind $d/group /etc/group
mount --bind $d/shadow /etc/shadow
carry /home $d/home
mount --rbind $d/home /home"
  is_node "$h" && mk_owner "$h"
  # the in-namespace init: private mounts, hostname, then sleep forever. $LAB_ROOT is carried into the
  # private /root, /run or /tmp when it lives below one of them, so paths stay the same inside the host.
  cat >"$d/holder.sh" <<EOF
set -e
LAB_ROOT=$LAB_ROOT
carry() { # covered_dir replacement_dir
  case "$LAB_ROOT/" in "\$1"/*)
    mkdir -p "\$2/\${LAB_ROOT#"\$1"/}"; mount --bind "$LAB_ROOT" "\$2/\${LAB_ROOT#"\$1"/}" ;;
  esac
}
hostname $h
mount --make-rprivate /
mount -t tmpfs -o mode=1777,size=256m $PREFIX-shm /dev/shm
mount --bind $d/etc-corosync /etc/corosync
mount --bind $d/lib-pacemaker /var/lib/pacemaker
mount --bind $d/lib-corosync /var/lib/corosync
mount --bind $d/log-pacemaker /var/log/pacemaker
mount --bind $d/log-corosync /var/log/corosync
mount --bind $d/log-crmsh /var/log/crmsh
mount --bind $d/hosts /etc/hosts
mount --bind $LAB_ROOT/bin/systemctl /usr/bin/systemctl
$bin_mount
carry /root $d/root
mount --rbind $d/root /root
carry /run $d/run
mount --rbind $d/run /run
carry /tmp $d/tmp
mount --rbind $d/tmp /tmp
touch $d/holder.ready
exec sleep infinity
EOF
}

# the instance owner on node $1: the machine's passwd/group/shadow plus db2inst1/db2iadm1 (ids above the
# machine's, the same on both nodes), its home with its own ssh key; `*` is not a locked password for sshd
mk_owner() {
  local h=$1 d uid gid; d=$(hdir "$1")
  uid=$(awk -F: 'BEGIN{m=1999} $3>m && $3<60000 {m=$3} END{print m+1}' /etc/passwd)
  gid=$(awk -F: 'BEGIN{m=1999} $3>m && $3<60000 {m=$3} END{print m+1}' /etc/group)
  cp /etc/passwd "$d/passwd"; cp /etc/group "$d/group"; cp /etc/shadow "$d/shadow"
  echo "$INST_GROUP:x:$gid:$INST" >>"$d/group"
  echo "$INST:x:$uid:$gid:Db2 instance owner (pcmk-lab):/home/$INST:/bin/bash" >>"$d/passwd"
  echo "$INST:*:19000:0:99999:7:::" >>"$d/shadow"
  chmod 0644 "$d/passwd" "$d/group"; chmod 0640 "$d/shadow"
  install -d -m 0755 "$d/home"
  install -d -o "$uid" -g "$gid" -m 0700 "$d/home/$INST" "$d/home/$INST/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C "$INST@$h" -f "$d/home/$INST/.ssh/id_ed25519"
  chown "$uid:$gid" "$d/home/$INST/.ssh/id_ed25519" "$d/home/$INST/.ssh/id_ed25519.pub"
}

# password-less ssh for the instance owner between the nodes (after the host keys exist)
owner_ssh_trust() {
  local n o d
  for n in "${NODES[@]}"; do
    d=$(hdir "$n")/home/$INST/.ssh
    : >"$d/authorized_keys"; : >"$d/known_hosts"
    for o in "${NODES[@]}"; do
      cat "$(hdir "$o")/home/$INST/.ssh/id_ed25519.pub" >>"$d/authorized_keys"
      echo "$o,${IP[$o]} $(cut -d' ' -f1,2 "$(hdir "$o")/ssh/ssh_host_ed25519_key.pub")" >>"$d/known_hosts"
    done
    chmod 0600 "$d/authorized_keys" "$d/known_hosts"
    chown "$(stat -c %u:%g "$d")" "$d/authorized_keys" "$d/known_hosts"
  done
}

start_holder() {
  local h=$1 d; d=$(hdir "$h")
  setsid ip netns exec "$(netns "$h")" unshare --mount --uts --propagation private -- /bin/bash "$d/holder.sh" \
    >>"$d/logs/holder.out" 2>&1 </dev/null &
  echo $! >"$d/pids/holder.pid"
  wait_for 10 "holder $h" test -f "$d/holder.ready" || die "holder for $h failed: $(cat "$d/logs/holder.out")"
  sleep 0.1 # let bash exec into `sleep`, the pid we recorded
}

# ---------------------------------------------------------------- corosync, qdevice certificates
write_corosync_conf() {
  local f=$LAB_ROOT/corosync.conf x
  {
    cat <<EOF
# generated by db2ops pcmk-lab.sh
totem {
    version: 2
    cluster_name: $CLUSTER_NAME
    transport: knet
    token: $TOKEN_MS
    crypto_cipher: aes256
    crypto_hash: sha256
}

nodelist {
EOF
    for x in "${NODES[@]}"; do
      printf '    node {\n        ring0_addr: %s\n        name: %s\n        nodeid: %s\n    }\n\n' \
        "${IP[$x]}" "$x" "${NODEID[$x]}"
    done
    cat <<EOF
}

quorum {
    provider: corosync_votequorum
    device {
        votes: 1
        model: net
        net {
            tls: on
            host: ${IP[$QHOST]}
            port: 5403
            algorithm: ffsplit
            tie_breaker: lowest
        }
    }
}

logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_stderr: no
    to_syslog: no
    timestamp: on
}
EOF
  } >"$f"
  corosync-keygen -k "$LAB_ROOT/authkey" >/dev/null 2>&1
  for x in "${NODES[@]}"; do
    install -m 0644 "$f" "$(hdir "$x")/etc-corosync/corosync.conf"
    install -m 0400 "$LAB_ROOT/authkey" "$(hdir "$x")/etc-corosync/authkey"
  done
}

# qnetd CA + the cluster's client certificate, the manual (pcs/crmsh-free) way
setup_qdevice_certs() {
  local q a b out; q=$(hdir $QHOST); a=$(hdir db2a); b=$(hdir db2b)
  out=$LAB_ROOT/certutil.out
  local ca=$q/etc-corosync/qnetd/nssdb/qnetd-cacert.crt
  {
    hexec $QHOST corosync-qnetd-certutil -i
    chown -R root:coroqnetd "$q/etc-corosync/qnetd"
    hexec db2a corosync-qdevice-net-certutil -i -c "$ca"
    hexec db2a corosync-qdevice-net-certutil -r -n "$CLUSTER_NAME"
    hexec $QHOST corosync-qnetd-certutil -s -c "$a/etc-corosync/qdevice/net/nssdb/qdevice-net-node.crq" \
      -n "$CLUSTER_NAME"
    hexec db2a corosync-qdevice-net-certutil -M -c "$q/etc-corosync/qnetd/nssdb/cluster-$CLUSTER_NAME.crt"
    hexec db2b corosync-qdevice-net-certutil -i -c "$ca"
    hexec db2b corosync-qdevice-net-certutil -m -c "$a/etc-corosync/qdevice/net/nssdb/qdevice-net-node.p12"
  } >>"$out" 2>&1 || die "qdevice certificates failed: $(tail -5 "$out")"
  [ -d "$b/etc-corosync/qdevice/net/nssdb" ] || die "qdevice certificates missing on db2b"
}

qnetd_ready() { hexec $QHOST corosync-qnetd-tool -s; }
start_qnetd() {
  alive "$(pid_of $QHOST qnetd)" && return 0
  hspawn $QHOST qnetd setpriv --reuid=coroqnetd --regid=coroqnetd --init-groups corosync-qnetd -f
  wait_for 20 "qnetd" qnetd_ready || die "qnetd did not start: $(tail -5 "$(hdir $QHOST)/logs/qnetd.out")"
}

qdevice_voting() { hexec "$1" corosync-quorumtool -s | grep -q Qdevice; }
corosync_ready() { hexec "$1" corosync-quorumtool -s >/dev/null 2>&1 || [ $? = 2 ]; } # rc 2: not quorate
start_corosync() { alive "$(pid_of "$1" corosync)" || hspawn "$1" corosync corosync -f; }
start_qdevice() { alive "$(pid_of "$1" qdevice)" || hspawn "$1" qdevice corosync-qdevice -f; }
start_pacemaker() {
  alive "$(pid_of "$1" pacemaker)" ||
    hspawn "$1" pacemaker env PATH="$LAB_ROOT/ec2-bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_debug=no pacemakerd
}

seed_cib() { # offline initial CIB: DC elected in ~7 s instead of ~23 s, no STONITH noise
  local f=$LAB_ROOT/cib-seed.xml n
  cibadmin --empty >"$f"
  CIB_file=$f crm_attribute --type crm_config --name dc-deadtime --update 5s >/dev/null
  CIB_file=$f crm_attribute --type crm_config --name stonith-enabled --update false >/dev/null
  CIB_file=$f crm_attribute --type crm_config --name cluster-name --update "$CLUSTER_NAME" >/dev/null
  for n in "${NODES[@]}"; do
    install -o hacluster -g haclient -m 0600 "$f" "$(hdir "$n")/lib-pacemaker/cib/cib.xml"
  done
}

# the resource layout of a db2cm-built HADR cluster (instance agents replaced by Dummy, the HADR database and
# the interface monitors by the stand-in db2hadr and db2ethmon agents; db2cm's constraint names). The overlay IP (the real aws-vpc-move-ip) is loaded by lab/pacemaker.py from
# the HA plan's text once the EC2 emulation is seeded.
write_crm_config() {
  local f=$LAB_ROOT/db2-hadr.crm n o
  {
    echo "property cib-bootstrap-options: stonith-enabled=false no-quorum-policy=stop cluster-name=$CLUSTER_NAME"
    echo "rsc_defaults rsc-options: failure-timeout=10" # db2cm 11.5.7+ (crm-config corpus capture)
    for n in "${NODES[@]}"; do # db2cm -create -cluster: one db2ethmon per host, never probed elsewhere
      echo "primitive db2_${n}_eth0 ocf:heartbeat:db2ethmon params interface=eth0 hostname=$n repeat_count=4" \
        "repeat_interval=4 op monitor timeout=30s interval=4 op start timeout=60s interval=0s" \
        "op stop interval=0s timeout=20s meta is-managed=true"
      echo "location prefer-db2_${n}_eth0 db2_${n}_eth0 100: $n"
      for o in "${NODES[@]}"; do
        [ "$o" = "$n" ] || echo "location no-probe-db2_${n}_eth0 db2_${n}_eth0 resource-discovery=never -inf: $o"
      done
    done
    for n in "${NODES[@]}"; do
      echo "primitive db2_${n}_${INST}_0 ocf:heartbeat:Dummy op monitor interval=10s timeout=120s" \
        "op start timeout=900s interval=0s op stop timeout=900s interval=0s meta migration-threshold=0"
      echo "location prefer-db2_${n}_${INST}_0 db2_${n}_${INST}_0 100: $n"
      for o in "${NODES[@]}"; do
        [ "$o" = "$n" ] || echo "location no-probe-db2_${n}_${INST}_0 db2_${n}_${INST}_0 resource-discovery=never -inf: $o"
      done
    done
    echo "primitive $HADR_RSC ocf:heartbeat:db2hadr params instance=$INST,$INST dbname=$DBNAME" \
      "op monitor interval=9s role=Promoted timeout=60s" \
      "op monitor interval=10s role=Unpromoted timeout=60s op start interval=0s timeout=900s" \
      "op stop interval=0s timeout=900s op promote interval=0s timeout=900s op demote interval=0s timeout=900s"
    echo "clone $HADR_CLONE $HADR_RSC meta promotable=true promoted-max=1 clone-max=2" \
      "resource-stickiness=5000 migration-threshold=1"
    for n in "${NODES[@]}"; do # db2cm: no promotion where the interface monitor saw the link down, nor
      # where the instance agent says the instance is down (Dummy never sets db2inst-*: the rule stays idle)
      echo "location loc-rule-${HADR_RSC}-eth0-$n $HADR_CLONE rule -inf: db2ethmon-eth0 eq 0"
      echo "location loc-rule-${HADR_RSC}-node-$n $HADR_CLONE rule -inf: db2inst-${n}_${INST}_0 eq 0"
    done
  } >"$f"
  echo "$f"
}

# ---------------------------------------------------------------- crm_mon queries (run inside a node)
crm_xml() { hexec "$1" crm_mon -1 --output-as=xml 2>/dev/null; }

nodes_online() { # node: every node online + a DC, per that node's crm_mon
  crm_xml "$1" | $PY -c '
import sys, xml.etree.ElementTree as ET
r = ET.fromstring(sys.stdin.read())
on = [n for n in r.iter("node") if n.get("online") == "true" and n.get("type") == "member"]
dc = r.find("summary/current_dc")
sys.exit(0 if len(on) >= 2 and dc is not None and dc.get("present") == "true" else 1)'
}

promoted_of() { # node -> prints the node where the HADR clone is Promoted, per that node's crm_mon
  local xml; xml=$(crm_xml "$1") || return 1
  $PY -c '
import sys, xml.etree.ElementTree as ET
r = ET.fromstring(sys.stdin.read())
for c in r.iter("clone"):
    if c.get("id") == sys.argv[1]:
        for res in c.iter("resource"):
            n = res.find("node")
            if res.get("role") in ("Promoted", "Master") and n is not None:
                print(n.get("name")); sys.exit(0)
sys.exit(1)' "$HADR_CLONE" <<<"$xml"
}

first_up_node() {
  local n
  for n in "${NODES[@]}"; do alive "$(pid_of "$n" pacemaker)" && { echo "$n"; return; }; done
  echo "${NODES[0]}"
}

cmd_promoted() { promoted_of "$(first_up_node)"; }

cmd_wait_promoted() { # NODE|any [TIMEOUT]
  local want=${1:-any} t=${2:-60} end p
  [ "$want" = any ] || check_node "$want"
  end=$(($(date +%s) + t))
  while :; do
    p=$(promoted_of "$(first_up_node)" 2>/dev/null || true)
    if [ -n "$p" ] && { [ "$want" = any ] || [ "$p" = "$want" ]; }; then echo "$p"; return 0; fi
    [ "$(date +%s)" -lt "$end" ] || die "timeout (${t}s) waiting for $HADR_CLONE promoted on $want (now: ${p:-none})"
    sleep 0.2
  done
}

# ---------------------------------------------------------------- ssh
write_client_ssh() {
  mkdir -p "$SSH_DIR"; chmod 0700 "$SSH_DIR"
  ssh-keygen -q -t ed25519 -N '' -C db2ops-pcmk-lab -f "$SSH_DIR/id_ed25519"
  local h
  : >"$SSH_DIR/known_hosts"
  for h in "${HOSTS[@]}"; do
    ssh-keygen -q -t ed25519 -N '' -C "$h-hostkey" -f "$(hdir "$h")/ssh/ssh_host_ed25519_key"
    echo "$h,${IP[$h]} $(cut -d' ' -f1,2 "$(hdir "$h")/ssh/ssh_host_ed25519_key.pub")" >>"$SSH_DIR/known_hosts"
  done
  # one config for the test client and for the hosts themselves (crmsh ssh-es between nodes)
  : >"$SSH_DIR/ssh_config"
  for h in "${HOSTS[@]}"; do
    cat >>"$SSH_DIR/ssh_config" <<EOF
Host $h ${IP[$h]}
    HostName ${IP[$h]}
    HostKeyAlias $h
EOF
  done
  cat >>"$SSH_DIR/ssh_config" <<EOF
Host *
    User root
    Port 22
    IdentityFile $SSH_DIR/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile $SSH_DIR/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 5
EOF
}

start_sshd() {
  local h=$1 d; d=$(hdir "$h")
  alive "$(pid_of "$h" sshd)" && return 0
  install -m 0600 "$SSH_DIR/id_ed25519.pub" "$d/root/.ssh/authorized_keys"
  install -m 0600 "$SSH_DIR/ssh_config" "$d/root/.ssh/config"
  cat >"$d/ssh/sshd_config" <<EOF
ListenAddress ${IP[$h]}
Port 22
HostKey $d/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
EOF
  hspawn "$h" sshd /usr/sbin/sshd -D -e -f "$d/ssh/sshd_config"
}

lab_ssh() { local h=$1; shift; ssh -F "$SSH_DIR/ssh_config" "$h" -- "$@"; }

cmd_exec() { # HOST CMD... : argv kept intact across the remote shell
  local h=${1:-}; shift || true
  check_host "$h"; [ $# -gt 0 ] || die "usage: $0 exec HOST CMD..."
  local line; line=$(printf '%q ' "$@")
  lab_ssh "$h" "$line"
}

# ---------------------------------------------------------------- Db2 stand-ins, systemctl shim
install_node_tools() {
  local t
  mkdir -p "$LAB_ROOT/bin" "$LAB_ROOT/node-bin" "$LAB_ROOT/ocf-heartbeat" "$LAB_ROOT/ec2-bin" "$LAB_ROOT/aws"
  install -m 0755 "$SELF_DIR/pcmk_db2_standin.py" "$LAB_ROOT/db2-standin.py"
  ln -sf "$LAB_ROOT/db2-standin.py" "$LAB_ROOT/ocf-heartbeat/db2hadr"
  ln -sf "$LAB_ROOT/db2-standin.py" "$LAB_ROOT/ocf-heartbeat/db2ethmon"
  # first on the PATH of the nodes' Pacemaker daemons (so of aws-vpc-move-ip): `curl` answers the instance
  # metadata calls from the lab's data and refuses any address outside loopback and the lab's network;
  # `aws-lab` is the real aws CLI pointed at the lab's EC2 emulation
  install -m 0755 "$SELF_DIR/pcmk_ec2_shims.py" "$LAB_ROOT/ec2-shims.py"
  for t in curl aws-lab; do ln -sf "$LAB_ROOT/ec2-shims.py" "$LAB_ROOT/ec2-bin/$t"; done
  printf '[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n' >"$LAB_ROOT/aws/credentials"
  printf '[default]\nregion = us-east-1\noutput = text\n' >"$LAB_ROOT/aws/config"
  install -m 0755 "${BASH_SOURCE[0]}" "$LAB_ROOT/pcmk-lab.sh" # the shim calls back into this copy
  for t in db2pd db2cm db2; do ln -sf "$LAB_ROOT/db2-standin.py" "$LAB_ROOT/node-bin/$t"; done
  cat >"$LAB_ROOT/bin/systemctl" <<EOF
#!/bin/bash
# db2ops pcmk-lab systemctl stand-in (there is no systemd here): maps cluster units to the lab's daemons
export DB2OPS_PCMK_ROOT='$LAB_ROOT'
exec /bin/bash '$LAB_ROOT/pcmk-lab.sh' _systemctl "\$(hostname)" "\$@"
EOF
  chmod 0755 "$LAB_ROOT/bin/systemctl"
}

unit_daemon() { # unit host -> daemon name ('' when the unit does not exist on that host)
  local u=${1%.service}
  case "$u" in
    corosync | pacemaker) is_node "$2" && echo "$u" ;;
    corosync-qdevice) is_node "$2" && echo qdevice ;;
    corosync-qnetd) [ "$2" = "$QHOST" ] && echo qnetd ;;
    ssh | sshd) echo sshd ;;
  esac
  return 0
}

cmd_systemctl() { # host action units... (is-active|status|start|stop|restart|is-enabled|enable|disable|...)
  local h=$1; shift
  local action="" units=() quiet=0 x props=() want_prop=0
  for x in "$@"; do
    if [ $want_prop = 1 ]; then props+=(${x//,/ }); want_prop=0; continue; fi
    case "$x" in
      -q | --quiet) quiet=1 ;;
      -p | --property) want_prop=1 ;;
      --property=*) x=${x#--property=}; props+=(${x//,/ }) ;;
      -*) ;;
      *) if [ -z "$action" ]; then action=$x; else units+=("$x"); fi ;;
    esac
  done
  local rc=0 u n pid
  for u in "${units[@]}"; do
    n=$(unit_daemon "$u" "$h"); u=${u%.service}
    pid=$([ -z "$n" ] || pid_of "$h" "$n")
    case "$action" in
      is-active)
        if [ -n "$n" ] && alive "$pid"; then [ $quiet = 1 ] || echo active
        else [ $quiet = 1 ] || echo inactive; rc=3; fi ;;
      is-enabled)
        if [ -n "$n" ]; then [ $quiet = 1 ] || echo enabled; else rc=1; fi ;;
      enable | disable | daemon-reload | reset-failed) ;;
      start | stop | restart)
        [ -n "$n" ] || { echo "Failed to $action $u.service: Unit $u.service not found." >&2; rc=5; continue; }
        if [ "$action" != start ]; then svc_stop "$h" "$n"; fi
        if [ "$action" != stop ]; then svc_start "$h" "$n"; fi ;;
      status)
        [ -n "$n" ] || { echo "Unit $u.service could not be found." >&2; rc=4; continue; }
        if alive "$pid"; then
          printf '● %s.service\n     Loaded: loaded (/lib/systemd/system/%s.service; enabled; preset: enabled)\n' "$u" "$u"
          printf '     Active: active (running)\n   Main PID: %s (%s)\n' "$pid" "$(cat "/proc/$pid/comm")"
        else
          printf '○ %s.service\n     Loaded: loaded (/lib/systemd/system/%s.service; enabled; preset: enabled)\n' "$u" "$u"
          printf '     Active: inactive (dead)\n'; rc=3
        fi ;;
      show) # systemd's property order; -p selects
        local k v
        [ ${#props[@]} -gt 0 ] || props=(Id MainPID LoadState ActiveState SubState UnitFileState)
        for k in Id MainPID LoadState ActiveState SubState UnitFileState; do
          [[ " ${props[*]} " == *" $k "* ]] || continue
          case $k in
            Id) v=$u.service ;;
            MainPID) v=0; [ -z "$n" ] || ! alive "$pid" || v=$pid ;;
            LoadState) v=loaded; [ -n "$n" ] || v=not-found ;;
            ActiveState) v=inactive; [ -z "$n" ] || ! alive "$pid" || v=active ;;
            SubState) v=dead; [ -z "$n" ] || ! alive "$pid" || v=running ;;
            UnitFileState) v=enabled; [ -n "$n" ] || v="" ;;
          esac
          echo "$k=$v"
        done ;;
      *) echo "systemctl (db2ops pcmk-lab stand-in): unsupported: $action" >&2; rc=1 ;;
    esac
  done
  return $rc
}

svc_start() { # like systemd's Requires=corosync: corosync first
  local h=$1 n=$2
  case "$n" in
    corosync) start_corosync "$h"; wait_for 30 "corosync on $h" corosync_ready "$h" ;;
    pacemaker) svc_start "$h" corosync; start_pacemaker "$h" ;;
    qdevice) svc_start "$h" corosync; start_qdevice "$h" ;;
    qnetd) start_qnetd ;;
    sshd) start_sshd "$h" ;;
  esac
}
svc_stop() { # units that require corosync stop before it
  local h=$1 n=$2
  case "$n" in
    corosync) cmd_stop_node "$h" ;;
    pacemaker) stop_daemon "$h" pacemaker 120 ;;
    *) stop_daemon "$h" "$n" 30 ;;
  esac
}

# ---------------------------------------------------------------- subcommands
cmd_up() {
  preflight
  if is_up; then log "lab already up ($LAB_ROOT)"; return 0; fi
  if [ -e "$LAB_ROOT" ] || ip link show "$BRIDGE" >/dev/null 2>&1 || [ -n "$(lab_netns)" ]; then
    log "leftovers of an earlier lab found, removing them first"; cmd_down
  fi
  local t0 h n cfg p; t0=$(now)
  mkdir -p "$LAB_ROOT"; chmod 0755 "$LAB_ROOT"
  [ -e /run/netns ] || touch "$LAB_ROOT/created-run-netns"
  printf 'PREFIX=%q\nNET=%q\nCLUSTER_NAME=%q\n' "$PREFIX" "$NET" "$CLUSTER_NAME" >"$LAB_ROOT/lab.env"
  install_node_tools
  for h in "${HOSTS[@]}"; do mk_host_tree "$h"; done
  write_client_ssh
  owner_ssh_trust
  net_up
  for h in "${HOSTS[@]}"; do start_holder "$h"; done
  write_corosync_conf
  seed_cib
  setup_qdevice_certs
  start_qnetd
  for h in "${HOSTS[@]}"; do start_sshd "$h"; done
  for n in "${NODES[@]}"; do start_corosync "$n"; done
  for n in "${NODES[@]}"; do
    wait_for 30 "corosync on $n" corosync_ready "$n" ||
      die "corosync on $n: $(tail -20 "$(hdir "$n")/log-corosync/corosync.log" 2>/dev/null)"
  done
  for n in "${NODES[@]}"; do start_qdevice "$n"; done
  for n in "${NODES[@]}"; do start_pacemaker "$n"; done
  log "daemons started ($(since "$t0")s)"
  wait_for 120 "both nodes online with a DC" nodes_online db2a || die "pacemaker did not form a cluster"
  cfg=$(write_crm_config)
  hexec db2a crm configure load update "$cfg" >>"$LAB_ROOT/crm-load.out" 2>&1 ||
    die "crm configure load failed: $(tail -5 "$LAB_ROOT/crm-load.out")"
  p=$(cmd_wait_promoted any 120)
  for h in "${HOSTS[@]}"; do
    wait_for 15 "ssh to $h" lab_ssh "$h" true || die "ssh to $h failed: $(tail -5 "$(hdir "$h")/logs/sshd.out")"
  done
  wait_for 30 "qdevice vote on db2a" qdevice_voting db2a ||
    log "WARNING: the qdevice vote is not visible in corosync-quorumtool yet"
  since "$t0" >"$LAB_ROOT/up.seconds"
  touch "$LAB_ROOT/up.done"
  log "lab up in $(cat "$LAB_ROOT/up.seconds")s; $HADR_CLONE promoted on $p; try: $0 exec db2a crm status"
}

cmd_down() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  local n ns pids pid i left d pf
  if [ -d "$LAB_ROOT/hosts" ]; then
    # graceful, in systemd's order: pacemaker, qdevice, corosync (killing all at once hangs corosync)
    for d in "pacemaker 60" "qdevice 15" "corosync 15"; do
      for n in "${NODES[@]}"; do stop_daemon "$n" $d & done
      wait
    done
  fi
  # every process still in one of OUR network namespaces was started by this script
  for ns in $(lab_netns); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
  done
  for ((i = 0; i < 50; i++)); do
    left=""; for ns in $(lab_netns); do left+=$(ip netns pids "$ns" 2>/dev/null || true); done
    [ -z "$left" ] && break; sleep 0.2
  done
  for ns in $(lab_netns); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -z "$pids" ] || { log "SIGKILL leftovers in $ns: $(echo $pids)"; kill -KILL $pids 2>/dev/null || true; }
  done
  if [ -d "$LAB_ROOT/hosts" ]; then # recorded pids outside a lab netns, e.g. after a failed `up`
    for pf in "$LAB_ROOT"/hosts/*/pids/*.pid; do
      [ -f "$pf" ] || continue; pid=$(cat "$pf")
      if alive "$pid"; then log "SIGKILL $pf ($pid)"; kill -KILL "$pid" 2>/dev/null || true; fi
    done
  fi
  stop_aws
  for ns in $(lab_netns); do # deleting a netns deletes its veth pair too
    ip link del "$ns" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  if [ -n "${DB2OPS_PCMK_KEEP_LOGS:-}" ] && [ -d "$LAB_ROOT/hosts" ]; then
    for d in "$LAB_ROOT"/hosts/*; do
      mkdir -p "$DB2OPS_PCMK_KEEP_LOGS/${d##*/}"
      cp -r "$d/logs" "$d/log-corosync" "$d/log-pacemaker" "$DB2OPS_PCMK_KEEP_LOGS/${d##*/}/" 2>/dev/null || true
    done
    log "daemon logs kept in $DB2OPS_PCMK_KEEP_LOGS"
  fi
  if [ -f "$LAB_ROOT/created-run-netns" ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    umount /run/netns 2>/dev/null || true # `ip netns add` made it a self bind-mount
    rmdir /run/netns 2>/dev/null || true
  fi
  case "$LAB_ROOT" in / | /run | /tmp | /var | /etc | /root | /usr | /home | "") die "refusing to remove $LAB_ROOT" ;; esac
  rm -rf "$LAB_ROOT"
  log "lab down"
}

cmd_status() {
  local h p
  if [ ! -d "$LAB_ROOT" ]; then echo "lab: down"; return 0; fi
  is_up && echo "lab: up ($LAB_ROOT, up in $(cat "$LAB_ROOT/up.seconds")s)" || echo "lab: incomplete ($LAB_ROOT)"
  for h in "${HOSTS[@]}"; do
    printf '%-6s %-12s ns=%-10s processes:' "$h" "${IP[$h]}" "$(netns "$h")"
    for p in $(ip netns pids "$(netns "$h")" 2>/dev/null); do printf ' %s' "$(cat "/proc/$p/comm" 2>/dev/null)"; done
    echo
  done
  if is_up; then
    echo "--- crm_mon -1 (on $(first_up_node))"
    hexec "$(first_up_node)" crm_mon -1 || true
  fi
}

# ---------------------------------------------------------------- EC2 emulation
aws_answers() { curl -s -o /dev/null --max-time 2 "http://$NET.1:$AWS_PORT/moto-api/"; }

cmd_start_aws() { # PYTHON: an interpreter that can import db2ops' lab package (moto, boto3)
  local py=${1:-} pid
  [ -n "$py" ] || die "usage: $0 start-aws PYTHON"
  is_up || die "the lab is not up; run: $0 up"
  pid=$(cat "$LAB_ROOT/aws/moto.pid" 2>/dev/null || true)
  if alive "$pid" && aws_answers; then return 0; fi
  # the root namespace, bound to the bridge address only: the lab's hosts reach it, nothing else does
  (cd "$SELF_DIR/../.." && exec setsid "$py" -m lab.pcmk_aws serve --host "$NET.1" --port "$AWS_PORT") \
    >>"$LAB_ROOT/aws/moto.out" 2>&1 </dev/null &
  echo $! >"$LAB_ROOT/aws/moto.pid"
  wait_for 30 "the EC2 emulation on $NET.1:$AWS_PORT" aws_answers ||
    die "the EC2 emulation did not start: $(tail -5 "$LAB_ROOT/aws/moto.out")"
}

stop_aws() {
  local pid; pid=$(cat "$LAB_ROOT/aws/moto.pid" 2>/dev/null || true)
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_for 10 "the EC2 emulation to stop" dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop_node() { # graceful: pacemaker, then qdevice, then corosync
  stop_daemon "$1" pacemaker 120
  stop_daemon "$1" qdevice 15
  stop_daemon "$1" corosync 15
}

cmd_crash_node() { # hard: SIGKILL every cluster process of the node; sshd survives
  local n=$1 p c
  for p in $(ip netns pids "$(netns "$n")"); do
    c=$(cat "/proc/$p/comm" 2>/dev/null || true)
    case "$c" in corosync* | pacemaker*) kill -KILL "$p" 2>/dev/null || true ;; esac
  done
  # a real crash reboots, losing /run (tmpfs): the agents' state files must go too, or the rejoining node's
  # probe finds the stand-in Db2 still PRIMARY there and Pacemaker demotes the survivor to resolve two
  # primaries; the rejoining node's agent activates its database as the standby
  rm -rf "$(hdir "$n")/run/resource-agents" "$(hdir "$n")/run/db2-hadr.json"
  wipe_shm "$n"
  for c in pacemaker qdevice corosync; do
    wait_for 10 "$n/$c gone" dead "$(pid_of "$n" $c)" || true
  done
}

# libqb's IPC ring buffers and corosync's blackbox live in /dev/shm; killed daemons leave theirs behind
# (~8 MiB per corosync), which a reboot would clear. Only when no cluster daemon of the node runs.
wipe_shm() {
  local n=$1 p c
  for p in $(ip netns pids "$(netns "$n")"); do
    c=$(cat "/proc/$p/comm" 2>/dev/null || true)
    case "$c" in corosync* | pacemaker*) return 0 ;; esac
  done
  hexec "$n" find /dev/shm -mindepth 1 -delete
}

cmd_start_node() {
  wipe_shm "$1"
  start_corosync "$1"
  wait_for 30 "corosync on $1" corosync_ready "$1" || die "corosync on $1 did not start"
  start_qdevice "$1"
  start_pacemaker "$1"
}

main() {
  local c=${1:-}; shift || true
  case "$c" in
    install) cmd_install ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    exec) cmd_exec "$@" ;;
    nsexec) check_host "${1:-}"; hexec "$@" ;;
    crash-node) check_node "${1:-}"; cmd_crash_node "$1" ;;
    start-node) check_node "${1:-}"; cmd_start_node "$1" ;;
    stop-node) check_node "${1:-}"; cmd_stop_node "$1" ;;
    stop-qnetd) stop_daemon $QHOST qnetd 15 ;;
    start-qnetd) start_qnetd ;;
    start-aws) cmd_start_aws "$@" ;;
    promoted) cmd_promoted ;;
    wait-promoted) cmd_wait_promoted "$@" ;;
    _systemctl) cmd_systemctl "$@" ;;
    *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
}
main "$@"

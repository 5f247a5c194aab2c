#!/bin/bash
# Prepares a privileged container to run systemd and a kubelet, then hands over to the command
# (/sbin/init). Our own minimal take on what a kind/minikube node needs.
set -euo pipefail

# The kubelet and containerd rely on mounts propagating (volumes, projected secrets).
mount --make-rshared /

# The node must see its own cgroup as the root, or its kubelet would build its pod hierarchy next
# to the host's. Docker gives a private cgroup namespace on cgroup v2, but on a v1 host a privileged
# container shares the host's (whatever dockerd's default): make one here, rooted at our own cgroup,
# in which the controllers Docker mounted (already scoped to this container) line up with it.
private_cgroups=true
grep -qvE '^[0-9]+:[^:]*:/$' /proc/self/cgroup && private_cgroups=false

# One machine-id per node (the image's would be shared by every node made from it).
rm -f /etc/machine-id
systemd-machine-id-setup >/dev/null

# Docker's DNS for the node's network answers at 127.0.0.11, which inside a pod is the pod's own
# loopback (CoreDNS forwards to the node's resolv.conf and would query itself). Serve it at the
# network's gateway address instead: Docker's own DNAT rules, matched on that address, for the
# node's traffic and for what arrives from pods; replies are sent back from it.
docker_dns=127.0.0.11
gateway=$(ip -4 route show default | awk '{ print $3; exit }')
if grep -q "^nameserver $docker_dns" /etc/resolv.conf; then
  # Docker wrote its rules with the host's iptables backend; this image's must be the same one.
  iptables-save -t nat | grep -q -- '-j DOCKER_OUTPUT' || { echo "entrypoint: no Docker DNS rules in this iptables backend ($(iptables --version)): pods cannot resolve through Docker" >&2; exit 1; }
  [[ -n $gateway ]] || { echo "entrypoint: no default route: nowhere to serve Docker's DNS" >&2; exit 1; }
  iptables-save -t nat \
    | sed -e "s|-d $docker_dns/32|-d $gateway/32|g" \
          -e "s|^-A OUTPUT \(.*\) -j DOCKER_OUTPUT\$|&\n-A PREROUTING \1 -j DOCKER_OUTPUT|" \
          -e "s|--to-source :53|--to-source $gateway:53|g" \
    | iptables-restore
  # Pods' queries are DNATed to a loopback address: allow routing to it.
  sysctl -qw net.ipv4.conf.all.route_localnet=1
  sed "s/^nameserver $docker_dns/nameserver $gateway/" /etc/resolv.conf > /tmp/resolv.conf
  cat /tmp/resolv.conf > /etc/resolv.conf
  rm /tmp/resolv.conf
fi

if [[ $private_cgroups == false ]]; then
  exec unshare --cgroup -- "$@"
fi
exec "$@"

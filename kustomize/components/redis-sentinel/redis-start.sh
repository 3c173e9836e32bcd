#!/bin/sh
# Starts one Redis data node of StatefulSet redis (redis-0, redis-1, redis-2).
# Arguments: more redis-server options (the StatefulSet passes --requirepass, --masterauth, …).
#
# The Sentinels decide which node is master. At start this node asks them; when one answers,
# it replicates that master (or stays master if it is the one). When no Sentinel knows yet (a
# fresh deployment), it looks for a data node that says it is master; when there is none,
# redis-0 is master and the others replicate it. A node that was master before a failover
# therefore comes back as a replica of the new master, never as a second master.
set -eu

domain="redis.${POD_NAMESPACE}.svc.cluster.local"
self="$(hostname).${domain}"
master=""

for i in 0 1 2; do
	# The Sentinels take no password: do not send the data nodes' one.
	answer="$(env -u REDISCLI_AUTH redis-cli -h "redis-sentinel-${i}.redis-sentinel" -p 26379 --raw \
		SENTINEL get-master-addr-by-name "${SENTINEL_MASTER}" 2>/dev/null | head -n 1)" || answer=""
	case "$answer" in
	"" | *ERR* | *error* | *Could*) ;;
	*) master="$answer" && break ;;
	esac
done

if [ -z "$master" ]; then
	for i in 0 1 2; do
		node="redis-${i}.${domain}"
		[ "$node" = "$self" ] && continue
		if redis-cli -h "$node" -p 6379 --raw INFO replication 2>/dev/null | grep -q '^role:master'; then
			master="$node"
			break
		fi
	done
fi
[ -n "$master" ] || master="redis-0.${domain}"

# Announce the stable name, not the pod IP (which changes when the pod moves): the Sentinels
# resolve names (resolve-hostnames) and hand them to the api.
set -- redis-server /usr/local/etc/redis/redis.conf "$@" --replica-announce-ip "$self"
if [ "$master" != "$self" ]; then
	echo "redis-start: ${self} replicates ${master}"
	set -- "$@" --replicaof "$master" 6379
else
	echo "redis-start: ${self} starts as master"
fi
exec "$@"

#!/bin/sh
# Starts one Sentinel of StatefulSet redis-sentinel (redis-sentinel-0, -1, -2).
#
# Sentinel rewrites its configuration file as it learns (replicas, other Sentinels, epochs), so
# the file lives in the writable /data (an emptyDir), written here at every start. The master
# to monitor: what another Sentinel already knows, else the data node that says it is master,
# else redis-0 (a fresh deployment, when redis-start.sh makes redis-0 master as well).
set -eu

ns="$POD_NAMESPACE"
self="$(hostname).redis-sentinel.${ns}.svc.cluster.local"
master=""

for i in 0 1 2; do
	peer="redis-sentinel-${i}.redis-sentinel.${ns}.svc.cluster.local"
	[ "$peer" = "$self" ] && continue
	answer="$(redis-cli -h "$peer" -p 26379 --raw SENTINEL get-master-addr-by-name "${SENTINEL_MASTER}" \
		2>/dev/null | head -n 1)" || answer=""
	case "$answer" in
	"" | *ERR* | *error* | *Could*) ;;
	*) master="$answer" && break ;;
	esac
done

if [ -z "$master" ]; then
	for i in 0 1 2; do
		node="redis-${i}.redis.${ns}.svc.cluster.local"
		if REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h "$node" -p 6379 --raw INFO replication 2>/dev/null |
			grep -q '^role:master'; then
			master="$node"
			break
		fi
	done
fi
[ -n "$master" ] || master="redis-0.redis.${ns}.svc.cluster.local"
echo "sentinel-start: ${self} monitors ${SENTINEL_MASTER} at ${master}"

umask 077
cat >/data/sentinel.conf <<CONF
port 26379
dir /data
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip ${self}
sentinel monitor ${SENTINEL_MASTER} ${master} 6379 ${SENTINEL_QUORUM}
sentinel auth-pass ${SENTINEL_MASTER} ${REDIS_PASSWORD}
sentinel down-after-milliseconds ${SENTINEL_MASTER} 5000
sentinel failover-timeout ${SENTINEL_MASTER} 60000
sentinel parallel-syncs ${SENTINEL_MASTER} 1
CONF
exec redis-sentinel /data/sentinel.conf

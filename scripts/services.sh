# Services the test suite needs beyond Node: PostgreSQL and MariaDB (Debian's) and an S3 server
# (Ceph's RADOS Gateway from Debian, or s3rver from npm). Source it from bash, then:
#   trap services_down EXIT; services_up
# It exports DATABASE_URL, MYSQL_URL and S3_ENDPOINT / S3_ACCESS_KEY / S3_SECRET_KEY for the tests.
# Runs as root on a Debian machine without systemd (the CI and development machines).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
S3_KIND=${S3_KIND:-rgw} # rgw: a real S3 (SigV4, ACLs, storage classes); s3rver: the npm fake
RGW_PORT=${RGW_PORT:-7480}
S3RVER_PORT=${S3RVER_PORT:-4569}
MYSQL_PORT=${MYSQL_PORT:-3306}
SVC_DIR=${SVC_DIR:-$(mktemp -d -t imageattach-services.XXXXXX)}

# Waits for another apt or dpkg (e.g. a second job on a shared machine) instead of failing.
apt_install() {
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_up() {
  apt_install postgresql
  local version
  version=$(ls /etc/postgresql | sort -V | tail -1)
  [ -d "/etc/postgresql/$version/main" ] || pg_createcluster "$version" main >/dev/null
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true # may already run
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  pg_isready -h 127.0.0.1 -p 5432
  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c \
    "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='imageattach') THEN CREATE ROLE imageattach LOGIN PASSWORD 'imageattach' CREATEDB; END IF; END \$\$;"
  runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname='imageattach_test'" | grep -q 1 ||
    runuser -u postgres -- createdb -O imageattach imageattach_test
  export DATABASE_URL=postgres://imageattach:imageattach@127.0.0.1:5432/imageattach_test
}

pg_down() {
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main stop || true
}

# MariaDB on 127.0.0.1:$MYSQL_PORT with a data directory of its own (the Debian default's
# may belong to another server on a shared machine), run by mariadbd without systemd.
mysql_up() {
  apt_install mariadb-server
  local D="$SVC_DIR/mariadb"
  mkdir -p "$D/data" "$D/run"
  chown -R mysql:mysql "$D"
  # mktemp made SVC_DIR for root alone (0700): the server runs as mysql and must reach $D.
  chmod a+x "$SVC_DIR"
  mariadb-install-db --user=mysql --datadir="$D/data" --auth-root-authentication-method=socket \
    --skip-test-db >"$D/install.log" 2>&1
  # 200 concurrent attaches with their pools, plus the crash test's workers: more than the
  # default 151 connections.
  mariadbd --no-defaults --user=mysql --datadir="$D/data" --socket="$D/run/mysqld.sock" \
    --pid-file="$D/run/mysqld.pid" --bind-address=127.0.0.1 --port="$MYSQL_PORT" \
    --max-connections=1000 --innodb-buffer-pool-size=128M --skip-name-resolve \
    --log-error="$D/error.log" &
  for _ in $(seq 1 120); do
    mariadb-admin --socket="$D/run/mysqld.sock" -u root ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb-admin --socket="$D/run/mysqld.sock" -u root ping >/dev/null
  # Each test file creates a database of its own, hence the global privileges.
  mariadb --socket="$D/run/mysqld.sock" -u root <<'SQL'
CREATE USER IF NOT EXISTS 'imageattach'@'127.0.0.1' IDENTIFIED BY 'imageattach';
CREATE USER IF NOT EXISTS 'imageattach'@'localhost' IDENTIFIED BY 'imageattach';
GRANT ALL PRIVILEGES ON *.* TO 'imageattach'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'imageattach'@'localhost';
CREATE DATABASE IF NOT EXISTS imageattach_test;
SQL
  export MYSQL_URL=mysql://imageattach:imageattach@127.0.0.1:$MYSQL_PORT/imageattach_test
}

mysql_down() {
  local D="$SVC_DIR/mariadb" pid
  pid=$(cat "$D/run/mysqld.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
}

# A single-node Ceph: one monitor, one in-memory OSD and radosgw on 127.0.0.1:$RGW_PORT.
rgw_up() {
  apt_install ceph-mon ceph-osd radosgw
  local C="$SVC_DIR/ceph" fsid osd_uuid id
  mkdir -p "$C"/{run,log,mon,osd,rgw}
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$C/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:3300
public addr = 127.0.0.1
ms bind ipv6 = false
keyring = $C/keyring
run dir = $C/run
admin socket = $C/run/\$name.asok
log file = $C/log/\$name.log
pid file = $C/run/\$name.pid
mon data = $C/mon/\$cluster-\$id
osd data = $C/osd/\$cluster-\$id
osd objectstore = memstore
# In memory: 6 GiB at most, used as written. A whole npm test writes a few GiB over its run
# (50 and 100 MiB uploads, hundreds of small ones), and RGW frees deleted objects only at its
# next garbage collection, so 2 GiB filled up across runs (HEALTH_ERR full osd, writes hang).
memstore device bytes = 6442450944
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon max pg per osd = 1000
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $C/rgw
# Deleted objects' data is freed a minute after the delete, not two hours (the default).
rgw gc obj min wait = 60
rgw gc processor period = 60
CONF
  ceph-authtool --create-keyring "$C/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$C/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$C/keyring" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null
  monmaptool --create --addv a '[v2:127.0.0.1:3300]' --fsid "$fsid" "$C/monmap" >/dev/null
  ceph-mon -c "$C/ceph.conf" --mkfs -i a --monmap "$C/monmap" --keyring "$C/keyring"
  ceph-mon -c "$C/ceph.conf" -i a
  timeout 60 ceph -c "$C/ceph.conf" auth import -i "$C/keyring" 2>/dev/null
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(timeout 60 ceph -c "$C/ceph.conf" osd new "$osd_uuid")
  mkdir -p "$C/osd/ceph-$id"
  timeout 60 ceph -c "$C/ceph.conf" auth get-or-create "osd.$id" mon 'allow profile osd' osd 'allow *' mgr 'allow profile osd' >>"$C/keyring"
  ceph-osd -c "$C/ceph.conf" -i "$id" --mkfs --osd-uuid "$osd_uuid" 2>/dev/null
  ceph-osd -c "$C/ceph.conf" -i "$id" 2>/dev/null
  radosgw -c "$C/ceph.conf" -n client.rgw.a
  rgw_wait
  radosgw-admin -c "$C/ceph.conf" user create --uid=test --display-name=test --access-key=test --secret=testsecret >/dev/null
  # Thumbnails go to REDUCED_REDUNDANCY; RGW answers 400 InvalidArgument until it knows the class.
  radosgw-admin -c "$C/ceph.conf" zonegroup placement add --rgw-zonegroup default --placement-id default-placement --storage-class REDUCED_REDUNDANCY >/dev/null
  radosgw-admin -c "$C/ceph.conf" zone placement add --rgw-zone default --placement-id default-placement --storage-class REDUCED_REDUNDANCY --data-pool default.rgw.reduced.data >/dev/null
  local pid
  pid=$(cat "$C/run/client.rgw.a.pid")
  kill "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  radosgw -c "$C/ceph.conf" -n client.rgw.a
  rgw_wait
  export S3_ENDPOINT=http://127.0.0.1:$RGW_PORT S3_ACCESS_KEY=test S3_SECRET_KEY=testsecret S3_KIND=rgw
}

rgw_wait() {
  for _ in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" && return 0; sleep 0.5; done
  echo "radosgw did not answer on port $RGW_PORT" >&2
  return 1
}

rgw_health() { # a full OSD (writes then hang) shows here, even without a mgr
  timeout 20 ceph -c "$SVC_DIR/ceph/ceph.conf" health 2>&1 || true
}

rgw_down() { # radosgw first, then the OSD, then the monitor: the OSD waits for the monitor
  local C="$SVC_DIR/ceph" name pid
  for name in client.rgw.a $(cd "$C/run" 2>/dev/null && ls osd.*.pid 2>/dev/null | sed 's/\.pid$//') mon.a; do
    pid=$(cat "$C/run/$name.pid" 2>/dev/null) || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  done
  rm -rf "$C"
}

s3rver_up() { # needs node_modules (npm ci) first
  mkdir -p "$SVC_DIR/s3rver"
  node_modules/.bin/s3rver -d "$SVC_DIR/s3rver" -a 127.0.0.1 -p "$S3RVER_PORT" --silent >"$SVC_DIR/s3rver.log" 2>&1 &
  echo $! >"$SVC_DIR/s3rver.pid"
  for _ in $(seq 1 40); do curl -s -o /dev/null "http://127.0.0.1:$S3RVER_PORT/" && break; sleep 0.25; done
  export S3_ENDPOINT=http://127.0.0.1:$S3RVER_PORT S3_ACCESS_KEY=S3RVER S3_SECRET_KEY=S3RVER S3_KIND=s3rver
}

s3rver_down() {
  kill "$(cat "$SVC_DIR/s3rver.pid" 2>/dev/null)" 2>/dev/null || true
  rm -rf "$SVC_DIR/s3rver"
}

services_up() {
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  pg_up
  mysql_up
  if [ "$S3_KIND" = rgw ]; then rgw_up; else s3rver_up; fi
}

services_down() {
  if [ "$S3_KIND" = rgw ]; then rgw_down; else s3rver_down; fi
  pg_down
  mysql_down
  rm -rf "$SVC_DIR"
}

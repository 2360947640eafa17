#!/usr/bin/env bash
# The backing services casefile needs on one Debian machine, for `make run` and `make test`.
#
#   scripts/services.sh up         install what is missing, start what is stopped, wait until each answers
#   scripts/services.sh status     say what answers where; exit 1 when something does not
#   scripts/services.sh down       stop the S3 server that `up` started from this clone
#   scripts/services.sh test-deps  what `make test` needs besides the services: a C compiler for -race, the
#                                  server binaries the outage tests start privately, the OpenID provider the
#                                  sign-in tests start (internal/testenv), and Debian's chromium for the web
#                                  pages' browser tests
#   scripts/services.sh assets     npm ci (the lock file's pinned versions), then copies the stylesheets, scripts
#                                  and images the web pages use into web/assets/dist, which the binary embeds
#
# PostgreSQL (127.0.0.1:5432, user postgres without a password) and Redis (127.0.0.1:6379) come from apt and are
# shared with everything else on the machine, so `down` leaves them running. The S3 server is versitygw (or MinIO
# with CASEFILE_S3_SERVER=minio), built once with `go install` into ~/.cache/casefile/bin and run from this clone's
# .data/ at CASEFILE_S3_ENDPOINT with CASEFILE_S3_ACCESS_KEY and CASEFILE_S3_SECRET_KEY, whose defaults are the
# service's. Whatever already answers is left alone. Quiet when there is nothing to do, one line for each thing it
# changes, and the end of the server's log when something does not come up.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=$root/.data
bindir=$HOME/.cache/casefile/bin
s3_endpoint=${CASEFILE_S3_ENDPOINT:-127.0.0.1:9000}
s3_access=${CASEFILE_S3_ACCESS_KEY:-casefile}
s3_secret=${CASEFILE_S3_SECRET_KEY:-casefile-dev-secret}
s3_server=${CASEFILE_S3_SERVER:-versitygw}
s3_pidfile=$data/s3.pid
s3_log=$data/s3.log
versitygw_module=github.com/versity/versitygw/cmd/versitygw@v1.8.0
oidc_module=github.com/zitadel/oidc/v3/example/server@v3.52.0
minio_module=github.com/minio/minio@latest

say() { printf 'services: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

# fail WHAT LOG: says that WHAT went wrong, shows the end of LOG, and stops.
fail() {
	say "$1; the end of $2:"
	tail -n 20 "$2" 2>/dev/null | sed 's/^/    /' >&2 || true
	exit 1
}

# wait_until SECONDS COMMAND...: succeeds as soon as COMMAND does; fails after SECONDS.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# ask HOST PORT REQUEST: sends REQUEST (a printf format) and prints the first line of the reply. Plain bash, as a
# fresh machine may have neither curl nor redis-cli; fails when nothing answers within 5 seconds.
# shellcheck disable=SC2016 # the inner bash expands them
ask() {
	timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "$3" >&3 && IFS= read -r line <&3 && printf "%s\n" "$line"' \
		ask "$@" 2>/dev/null | tr -d '\r'
}

# as_root runs a command as root: directly when we are root, else through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "not root and no sudo: run '$*' as root, then try again"
	fi
}

apt_updated=
apt_install() {
	command -v apt-get >/dev/null || die "$* needed, and there is no apt-get here: install it yourself, then try again"
	mkdir -p "$data"
	say "installing $* with apt-get (log: $data/apt.log)"
	if [ -z "$apt_updated" ]; then
		as_root apt-get update -q >"$data/apt.log" 2>&1 || fail "apt-get update failed" "$data/apt.log"
		apt_updated=1
	fi
	# C.UTF-8: the PostgreSQL cluster the package creates gets UTF8 encoding rather than SQL_ASCII.
	as_root env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 \
		apt-get install -y -q --no-install-recommends "$@" >>"$data/apt.log" 2>&1 ||
		fail "apt-get install $* failed" "$data/apt.log"
}

# go_tool NAME MODULE@VERSION HOW_LONG prints the path of a server built with go install, building it the first time.
go_tool() {
	local bin=$bindir/$1
	if [ ! -x "$bin" ]; then
		say "building $1 ($2) into $bindir; only the first time, $3"
		mkdir -p "$bindir"
		# Without GOFLAGS: flags meant for casefile's own module (-mod=vendor, say) break go install pkg@version.
		GOBIN=$bindir GOFLAGS='' go install "$2" >&2 || die "could not build $1 with go install $2"
	fi
	printf '%s\n' "$bin"
}

# oidc_provider_bin prints the path of the OpenID provider that the sign-in tests start on loopback (the example
# server of zitadel/oidc, an OpenID-certified library), building it the first time. go install names it "server", so
# it is built in a directory of its own and moved to a name that says what it is.
oidc_provider_bin() {
	local bin=$bindir/zitadel-oidc-example tmp
	if [ ! -x "$bin" ]; then
		say "building the test OpenID provider ($oidc_module) into $bindir; only the first time, about a minute"
		mkdir -p "$bindir"
		tmp=$(mktemp -d)
		if ! GOBIN=$tmp GOFLAGS='' go install "$oidc_module" >&2; then
			rm -rf "$tmp"
			die "could not build the test OpenID provider with go install $oidc_module"
		fi
		mv "$tmp/server" "$bin"
		rm -rf "$tmp"
	fi
	printf '%s\n' "$bin"
}

## PostgreSQL

pg_installed() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }
pg_answers() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }

# pg_cluster prints "VERSION NAME LOGFILE" of the Debian cluster that listens on port 5432.
pg_cluster() { pg_lsclusters --no-header 2>/dev/null | awk '$3 == 5432 { print $1, $2, $7; exit }'; }

postgres_up() {
	if ! pg_answers; then
		pg_installed || apt_install postgresql
		pg_answers || pg_start
	fi
	pg_trust
}

pg_start() {
	command -v pg_lsclusters >/dev/null ||
		die "PostgreSQL is installed but not from Debian's packages: start it on 127.0.0.1:5432 yourself"
	local cluster ver name log
	cluster=$(pg_cluster)
	if [ -z "$cluster" ]; then
		ver=$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1 | cut -d/ -f5)
		say "creating PostgreSQL $ver cluster main on port 5432"
		as_root env LANG=C.UTF-8 LC_ALL=C.UTF-8 pg_createcluster --port 5432 "$ver" main >/dev/null
		cluster=$(pg_cluster)
	fi
	read -r ver name log <<<"$cluster"
	say "starting PostgreSQL $ver/$name on 127.0.0.1:5432"
	# --skip-systemctl-redirect starts it directly, also where systemd does not run (containers).
	as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
	wait_until 60 pg_answers || fail "PostgreSQL $ver/$name did not answer on 127.0.0.1:5432 within 60s" "$log"
}

# pg_login tries casefile's default login, printing only the error.
pg_login() {
	{ psql 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=5' -w -Atqc 'select 1' >/dev/null; } 2>&1
}

# pg_trust makes sure that casefile's default database URL, user postgres over TCP without a password, gets in;
# Debian's own pg_hba.conf asks for a password on 127.0.0.1.
pg_trust() {
	local err cluster ver name hba
	err=$(pg_login) && return 0
	case $err in
	*"password authentication failed"* | *"no password supplied"* | *"no pg_hba.conf entry"*) ;;
	*) die "PostgreSQL answers on 127.0.0.1:5432, but user postgres cannot log in: $err" ;;
	esac
	cluster=$(pg_cluster)
	[ -n "$cluster" ] || die "PostgreSQL on 127.0.0.1:5432 wants a password for user postgres ($err): allow trust" \
		"for 127.0.0.1/32 and ::1/128 in its pg_hba.conf, or put a password in CASEFILE_DATABASE_URL and CASEFILE_TEST_DATABASE_URL"
	read -r ver name _ <<<"$cluster"
	hba=/etc/postgresql/$ver/$name/pg_hba.conf
	grep -q '^# casefile development' "$hba" 2>/dev/null && die "user postgres still cannot log in without a password: $err"
	say "letting user postgres in from 127.0.0.1 and ::1 without a password (trust), for development: $hba"
	as_root sed -i "1i # casefile development (scripts/services.sh): casefile's default database URL has no password.\\
host all postgres 127.0.0.1/32 trust\\
host all postgres ::1/128 trust" "$hba"
	as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
	wait_until 10 pg_login >/dev/null || die "user postgres still cannot log in without a password: $(pg_login)"
}

## Redis

redis_answers() {
	local reply
	reply=$(ask 127.0.0.1 6379 'PING\r\n') || return 1
	case $reply in
	+PONG) return 0 ;;
	"") return 1 ;;
	*) die "something answers on 127.0.0.1:6379, but not as casefile needs (PING: $reply)" ;;
	esac
}

redis_up() {
	redis_answers && return 0
	command -v redis-server >/dev/null || apt_install redis-server
	redis_answers && return 0 # the package starts it where it can
	mkdir -p "$data"
	say "starting redis-server on 127.0.0.1:6379 (log: $data/redis.log)"
	# Redis holds only queued work; casefile's outbox in PostgreSQL is the record of what is to be done.
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
		--dir "$data" --logfile "$data/redis.log" >/dev/null
	wait_until 20 redis_answers || fail "Redis did not answer on 127.0.0.1:6379 within 20s" "$data/redis.log"
}

## S3 server

s3_answers() { [[ $(ask "${s3_endpoint%:*}" "${s3_endpoint##*:}" 'GET / HTTP/1.0\r\n\r\n') == HTTP/* ]]; }

# running PID: the process is there, and not a zombie waiting for whoever adopted it to reap it.
running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}
stopped() { ! running "$1"; }

# s3_pid prints "PID ENDPOINT" of the S3 server that `up` started from this clone, while it runs.
s3_pid() {
	local pid endpoint
	[ -f "$s3_pidfile" ] && read -r pid endpoint <"$s3_pidfile" || return 1
	if running "$pid"; then
		case $(cat "/proc/$pid/comm" 2>/dev/null) in
		versitygw | minio)
			printf '%s %s\n' "$pid" "$endpoint"
			return 0
			;;
		esac
	fi
	rm -f "$s3_pidfile"
	return 1
}

s3_up() {
	local pid endpoint
	s3_answers && return 0
	if read -r pid endpoint < <(s3_pid); then
		[ "$endpoint" = "$s3_endpoint" ] ||
			die "the S3 server started from this clone (pid $pid) serves $endpoint; to move it to $s3_endpoint, run scripts/services.sh down first"
		# started a moment ago, or hung
		if ! wait_until 60 s3_answers_or_stopped "$pid" || ! s3_answers; then
			fail "the S3 server started from this clone (pid $pid) does not answer on $s3_endpoint" "$s3_log"
		fi
		return 0
	fi
	case ${s3_endpoint%:*} in
	127.0.0.1 | localhost) ;;
	*) die "nothing answers at CASEFILE_S3_ENDPOINT=$s3_endpoint, and it is not on this machine, so nothing was started" ;;
	esac
	s3_start
}

s3_answers_or_stopped() { s3_answers || stopped "$1"; }
versitygw_bin() { go_tool versitygw "$versitygw_module" "4 to 10 minutes"; }

s3_start() {
	local bin pid
	mkdir -p "$data"
	printf -- '--- %s: scripts/services.sh up starts %s\n' "$(date -u +%FT%TZ)" "$s3_server" >>"$s3_log"
	# setsid: its own session, so that Ctrl-C on `make run` stops casefile but not the S3 server.
	case $s3_server in
	versitygw)
		bin=$(versitygw_bin)
		mkdir -p "$data/s3/versions" "$data/s3/data" "$data/s3/iam"
		say "starting versitygw on $s3_endpoint (data: $data/s3, log: $s3_log)"
		# Object Lock needs versioning, which the posix backend does only with --versioning-dir. --keep-alive: without
		# it versitygw closes the connection after every response, and each request pays for a new one. --iam-dir:
		# accounts besides the root, so that casefile runs with least-privilege credentials (s3_accounts).
		# The root credentials go by environment rather than arguments, out of sight of ps.
		ROOT_ACCESS_KEY_ID=$s3_access ROOT_SECRET_ACCESS_KEY=$s3_secret \
			setsid "$bin" --quiet --keep-alive --port "$s3_endpoint" --iam-dir "$data/s3/iam" \
			posix --versioning-dir "$data/s3/versions" "$data/s3/data" </dev/null >>"$s3_log" 2>&1 &
		;;
	minio)
		bin=$(go_tool minio "$minio_module" "several minutes")
		mkdir -p "$data/minio"
		say "starting MinIO on $s3_endpoint (data: $data/minio, log: $s3_log)"
		# MINIO_BROWSER=off: no web console, which would otherwise listen on a random port on every interface.
		MINIO_ROOT_USER=$s3_access MINIO_ROOT_PASSWORD=$s3_secret MINIO_BROWSER=off \
			setsid "$bin" server "$data/minio" --address "$s3_endpoint" \
			</dev/null >>"$s3_log" 2>&1 &
		;;
	esac
	pid=$!
	printf '%s %s\n' "$pid" "$s3_endpoint" >"$s3_pidfile"
	if ! wait_until 60 s3_answers_or_stopped "$pid" || ! s3_answers; then
		kill "$pid" 2>/dev/null || true
		rm -f "$s3_pidfile"
		fail "$s3_server did not come up on $s3_endpoint" "$s3_log"
	fi
}

# s3_accounts makes the app's, records and anchor accounts on a versitygw that this clone started with IAM
# accounts, so that `make run` runs casefile with them (each allowed only its part by the bucket policy that
# `casefile s3 setup` applies with the root credential) and never with the root's. It writes the environment for
# casefile to .data/s3.accounts and the root's, for `casefile s3 setup` alone, to .data/s3.root; without IAM
# accounts (another S3 server, MinIO, or a versitygw started before they were used) it writes neither, and
# `make run` uses the root credential as before.
s3_accounts() {
	local pid endpoint bin who out
	rm -f "$data/s3.accounts" "$data/s3.root"
	[ "$s3_server" = versitygw ] || return 0
	read -r pid endpoint < <(s3_pid) || return 0 # not started from this clone: its accounts are its operator's
	if ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '--iam-dir'; then
		say "the S3 server on $endpoint was started without IAM accounts, so make run gives casefile its root credential;" \
			"run make services-down, then make run, to use least-privilege accounts"
		return 0
	fi
	bin=$(versitygw_bin)
	for who in app records anchors; do
		if ! out=$("$bin" admin -a "$s3_access" -s "$s3_secret" --er "http://$endpoint" \
			create-user -a "casefile-$who" -s "casefile-dev-secret-$who" -r user 2>&1); then
			case $out in
			*XAdminUserExists*) ;;
			*)
				say "could not make the S3 account casefile-$who ($out); make run gives casefile the root credential"
				return 0
				;;
			esac
		fi
	done
	printf '%s\n' "CASEFILE_S3_ROOT_ACCESS_KEY=$s3_access" "CASEFILE_S3_ROOT_SECRET_KEY=$s3_secret" >"$data/s3.root"
	printf '%s\n' "CASEFILE_S3_ACCESS_KEY=casefile-app" "CASEFILE_S3_SECRET_KEY=casefile-dev-secret-app" \
		"CASEFILE_S3_RECORDS_ACCESS_KEY=casefile-records" "CASEFILE_S3_RECORDS_SECRET_KEY=casefile-dev-secret-records" \
		"CASEFILE_ANCHOR_S3_ACCESS_KEY=casefile-anchors" "CASEFILE_ANCHOR_S3_SECRET_KEY=casefile-dev-secret-anchors" \
		>"$data/s3.accounts"
	chmod 600 "$data/s3.root" "$data/s3.accounts"
}

s3_down() {
	local pid endpoint name
	if ! read -r pid endpoint < <(s3_pid); then
		s3_answers && say "the S3 server on $s3_endpoint was not started from this clone; left running"
		return 0
	fi
	name=$(cat "/proc/$pid/comm")
	kill "$pid" 2>/dev/null || true
	wait_until 15 stopped "$pid" || kill -9 "$pid" 2>/dev/null || true
	rm -f "$s3_pidfile"
	say "stopped $name on $endpoint (pid $pid); its data stays in $data"
}

## Commands

status() {
	local rc=0 pid endpoint
	if pg_answers; then echo "postgres  127.0.0.1:5432  up"; else echo "postgres  127.0.0.1:5432  down" && rc=1; fi
	if redis_answers; then echo "redis     127.0.0.1:6379  up"; else echo "redis     127.0.0.1:6379  down" && rc=1; fi
	if s3_answers; then
		if read -r pid endpoint < <(s3_pid) && [ "$endpoint" = "$s3_endpoint" ]; then
			echo "s3        $s3_endpoint  up: $(cat "/proc/$pid/comm") pid $pid, started from this clone (data in $data)"
		else
			echo "s3        $s3_endpoint  up: not started from this clone"
		fi
	else
		echo "s3        $s3_endpoint  down" && rc=1
	fi
	return $rc
}

# The PDF chronology of a disclosure export is set in DejaVu Sans when it is installed, so that names and notes in
# Polish, Greek, Cyrillic and other scripts show; without it the PDF falls back to a Latin-1 font.
fonts_up() {
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && return 0
	if command -v apt-get >/dev/null; then
		apt_install fonts-dejavu-core
	else
		say "no DejaVu Sans here (Debian's fonts-dejavu-core): PDF chronologies will show Latin-1 only"
	fi
}

# Documents' text is extracted by subprocesses: pdftotext and pdftoppm (poppler-utils) for PDFs, and Tesseract OCR
# with its English data for images and scanned PDFs. Without them those documents' extraction fails with a warning.
ocr_missing() {
	command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null || echo poppler-utils
	command -v tesseract >/dev/null || echo tesseract-ocr
	compgen -G '/usr/share/tesseract-ocr/*/tessdata/eng.traineddata' >/dev/null || echo tesseract-ocr-eng
}

ocr_up() {
	local missing
	mapfile -t missing < <(ocr_missing)
	[ ${#missing[@]} -eq 0 ] && return 0
	if command -v apt-get >/dev/null; then
		apt_install "${missing[@]}"
	else
		say "no ${missing[*]} here: PDFs and images will not have their text extracted"
	fi
}

test_deps() {
	local missing=()
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
	# Text extraction and OCR of uploaded documents.
	mapfile -t -O ${#missing[@]} missing < <(ocr_missing)
	# go test -race needs cgo, and so a C compiler.
	command -v "$(go env CC)" >/dev/null || missing+=(gcc libc6-dev)
	# The outage tests start PostgreSQL, Redis and versitygw servers of their own.
	pg_installed || missing+=(postgresql)
	command -v redis-server >/dev/null || missing+=(redis-server)
	# The web pages' journeys run in a real browser (chromedp drives it).
	[ -x /usr/bin/chromium ] || missing+=(chromium)
	[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
	[ "$(go env CGO_ENABLED)" = 1 ] || die "go test -race needs cgo, but CGO_ENABLED is 0: unset it"
	[ -n "${CASEFILE_TEST_S3_BIN:-}" ] || versitygw_bin >/dev/null
	# The sign-in tests sign in through a real OpenID provider of their own.
	[ -n "${CASEFILE_TEST_OIDC_BIN:-}" ] || oidc_provider_bin >/dev/null
}

## Web assets

# web_assets installs the pinned npm packages when the lock file changed and copies what the pages use into
# web/assets/dist. GOV.UK's own typeface (GDS Transport) is for GOV.UK services only: a council's pages use the
# fallback (Arial), so the font files are not copied and their @font-face rules are taken out.
web_assets() {
	command -v npm >/dev/null || apt_install nodejs npm
	local stamp=$root/node_modules/.package-lock.json
	if [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; then
		say "npm ci (the pinned govuk-frontend, @ministryofjustice/frontend, axe-core)"
		(cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed"
		touch "$stamp"
	fi
	local dist=$root/web/assets/dist govuk=$root/node_modules/govuk-frontend/dist/govuk
	local moj=$root/node_modules/@ministryofjustice/frontend/moj
	[ "$dist/.copied" -nt "$stamp" ] && return 0
	find "$dist" -mindepth 1 -not -name README.md -delete
	mkdir -p "$dist/images"
	sed -e 's/@font-face{font-family:GDS Transport;[^}]*}//g' -e 's/GDS Transport,//g' \
		"$govuk/govuk-frontend.min.css" >"$dist/govuk-frontend.min.css"
	sed -e 's/GDS Transport,//g' "$moj/moj-frontend.min.css" >"$dist/moj-frontend.min.css"
	cp "$govuk/govuk-frontend.min.js" "$dist/govuk-frontend.min.js"
	cp "$govuk/assets/images/"*.svg "$govuk/assets/images/favicon.ico" "$dist/images/"
	cp "$moj/assets/images/"icon-*.svg "$dist/images/"
	touch "$dist/.copied"
	say "web assets copied into web/assets/dist"
}

[[ $s3_endpoint =~ ^[^:/]+:[0-9]+$ ]] || die "CASEFILE_S3_ENDPOINT must be host:port, like 127.0.0.1:9000, not '$s3_endpoint'"
case $s3_server in
versitygw | minio) ;;
*) die "CASEFILE_S3_SERVER must be versitygw or minio, not '$s3_server'" ;;
esac

case ${1:-} in
up)
	postgres_up
	redis_up
	s3_up
	s3_accounts
	fonts_up
	ocr_up
	;;
down) s3_down ;;
status) status ;;
test-deps) test_deps ;;
assets) web_assets ;;
*) die "usage: scripts/services.sh up|down|status|test-deps|assets" ;;
esac

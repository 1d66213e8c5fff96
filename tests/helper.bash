# Loaded by every tests/*.bats file.  The tools come from $EVBIN (set by
# make test / make sanitize); the C drivers for lib/ from $EVUNIT.
: "${EVBIN:=$BATS_TEST_DIRNAME/../build/bin}"
: "${EVUNIT:=$BATS_TEST_DIRNAME/../build/unit}"
PATH="$EVBIN:$PATH"
export EVBIN EVUNIT PATH
export LC_ALL=C.UTF-8 TZ=UTC
unset EV_ID_FIELD EV_KEY_FIELD EV_TYPE_FIELD EV_TIME_FIELD EV_PAYLOAD_FIELD EV_VERSION_FIELD EV_NOW
FIX="$BATS_TEST_DIRNAME/fixtures"

# run_split CMD...: like run, but stdout in $output and stderr in $stderr.
run_split() {
	local outf="$BATS_TEST_TMPDIR/stdout.$$" errf="$BATS_TEST_TMPDIR/stderr.$$"
	status=0
	"$@" >"$outf" 2>"$errf" || status=$?
	output=$(cat "$outf")
	stderr=$(cat "$errf")
	lines=()
	if [ -n "$output" ]; then
		mapfile -t lines <"$outf"
	fi
	return 0
}

# fail_with MSG: fail the test with a message showing output and stderr.
fail_with() {
	printf '%s\nstatus: %s\noutput: %s\nstderr: %s\n' "$1" "$status" "$output" "${stderr:-}" >&2
	return 1
}

# help_has OPTION: does $output (a --help) name OPTION?  The common field
# options are one entry there, --*-field, and --help, --version are -h, -V.
help_has() {
	case $1 in
	--help) [[ "$output" == *" -h "* ]] ;;
	--version) [[ "$output" == *" -V"* ]] ;;
	--*-field) [[ "$output" == *"$1"* || "$output" == *"--*-field"* ]] ;;
	*) [[ "$output" == *"$1"* ]] ;;
	esac
}

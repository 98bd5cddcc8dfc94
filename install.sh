#!/usr/bin/env bash
# Install swarmd from this checkout as a systemd user service, or remove it (--uninstall).
# Run it again to upgrade in place: it rebuilds, rewrites the unit and restarts the service.
# It never overwrites your config and never touches the data dir.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

readonly MIN_NODE_MAJOR=20
readonly MIN_NODE_MINOR=19
readonly UNIT_NAME=swarmd.service

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
readonly REPO_DIR
HOME_DIR="${HOME:?HOME is not set}"
CONFIG_HOME="${XDG_CONFIG_HOME:-$HOME_DIR/.config}"
readonly CONFIG_DIR="$CONFIG_HOME/swarmd"
readonly CONFIG_FILE="$CONFIG_DIR/config.yaml"
readonly UNIT_DIR="$CONFIG_HOME/systemd/user"
readonly UNIT_FILE="$UNIT_DIR/$UNIT_NAME"
readonly DATA_DIR="${XDG_STATE_HOME:-$HOME_DIR/.local/state}/swarmd"
readonly ENTRY="$REPO_DIR/dist/src/bin/swarmd.js"
readonly SWARMCTL="$REPO_DIR/dist/src/bin/swarmctl.js"
readonly DEFAULT_FILE_MODULE="$REPO_DIR/dist/src/config/default-file.js"
CURRENT_USER="${USER:-$(id -un)}"
readonly CURRENT_USER

usage() {
  cat <<EOF
Usage: ./install.sh [options]

Install swarmd from this checkout as a systemd user service: install dependencies,
build, write a commented default config to $CONFIG_FILE
(only if none exists), install, enable and (re)start $UNIT_NAME.
Running it again upgrades in place.

Options:
  --init         start a new swarm on this box and print its join token (if this
                 box is already in a swarm, print that swarm's token instead)
  --join TOKEN   make this box a member of the swarm TOKEN names (the token that
                 --init or \`swarmctl token\` printed on a member); --join - reads it
                 from stdin
  --skip-build   use the existing dist/ (no dependency install, no build);
                 for development and tests
  --no-start     install and enable the service, but do not start or restart it
  --install-bubblewrap
                 if bubblewrap is missing, install it with the system's package
                 manager (sudo) without asking; coding jobs verify code a model
                 wrote inside it, and refuse to verify without it
  --uninstall    stop, disable and remove the service; keeps config and data
  -h, --help     show this help

Without --init or --join the box is installed unpaired: it serves no peer until
\`swarmctl init\` or \`swarmctl join <token>\` (a running swarmd picks that up by itself).
EOF
}

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
  printf 'install.sh: error: %s\n' "$*" >&2
  exit 1
}
die_usage() {
  printf 'install.sh: %s\n\n' "$*" >&2
  usage >&2
  exit 2
}

skip_build=0
no_start=0
uninstall=0
install_bubblewrap=0
swarm_init=0
swarm_join=0
join_token=''
while (($# > 0)); do
  case "$1" in
    --skip-build) skip_build=1 ;;
    --no-start) no_start=1 ;;
    --uninstall) uninstall=1 ;;
    --install-bubblewrap) install_bubblewrap=1 ;;
    --init) swarm_init=1 ;;
    --join)
      (($# > 1)) || die_usage "--join needs the join token: --join <token> (or --join - to read it from stdin)"
      swarm_join=1
      join_token="$2"
      shift
      ;;
    --join=*)
      swarm_join=1
      join_token="${1#--join=}"
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die_usage "unknown option: $1" ;;
  esac
  shift
done
if ((swarm_init && swarm_join)); then
  die_usage "--init starts a new swarm and --join joins an existing one: give one of them"
fi
if ((uninstall && (swarm_init || swarm_join))); then
  die_usage "--uninstall cannot be combined with --init or --join"
fi
if ((swarm_join)); then
  if [[ "$join_token" == - ]]; then
    if [[ -t 0 ]]; then printf 'Paste the join token, then press Enter and Ctrl-D:\n' >&2; fi
    join_token="$(cat)"
  fi
  # Terminals wrap long lines when copying; whitespace is never part of a token.
  join_token="${join_token//[[:space:]]/}"
  # Only the shape here, so a wrong paste fails before the build; swarmctl checks the rest.
  if [[ "$join_token" != swarmd1_* ]]; then
    die "--join: that is not a join token (a join token is one line starting with swarmd1_; run \`swarmctl token\` on a box already in the swarm and paste the whole line)"
  fi
fi

# Why there is no systemd user session, set by has_user_systemd.
no_systemd_reason=''

has_user_systemd() {
  if ! command -v systemctl >/dev/null 2>&1; then
    no_systemd_reason='systemctl is not installed'
    return 1
  fi
  local err
  if ! err="$(systemctl --user show-environment 2>&1 >/dev/null)"; then
    no_systemd_reason="systemctl --user cannot reach a user session (${err%%$'\n'*})"
    return 1
  fi
}

# Run systemctl --user, hiding the complaint that the unit is not loaded or not installed.
systemctl_quiet() {
  local err
  if ! err="$(systemctl --user "$@" 2>&1 >/dev/null)"; then
    case "$err" in
      *'not loaded'* | *'does not exist'* | *'not found'* | '') ;;
      *) printf '    (systemctl --user %s: %s)\n' "$*" "${err%%$'\n'*}" ;;
    esac
  fi
}

do_uninstall() {
  say "Uninstalling the swarmd user service"
  local systemd=0
  if has_user_systemd; then systemd=1; fi
  if ((systemd)); then
    systemctl_quiet stop "$UNIT_NAME"
    systemctl_quiet disable "$UNIT_NAME"
  fi
  if [[ -e "$UNIT_FILE" ]]; then
    rm -f "$UNIT_FILE"
    note "removed $UNIT_FILE"
  else
    note "no unit at $UNIT_FILE (already removed)"
  fi
  if ((systemd)); then
    systemctl --user daemon-reload
    systemctl_quiet reset-failed "$UNIT_NAME"
  else
    note "No systemd user session: $no_systemd_reason; stop a foreground swarmd with Ctrl-C."
  fi
  say "Kept your config and data"
  note "config: $CONFIG_DIR"
  note "data:   $DATA_DIR (node id, state; node.dataDir in the config may point elsewhere)"
  note "To delete them too: rm -rf '$CONFIG_DIR' '$DATA_DIR'"
}

if ((uninstall)); then
  do_uninstall
  exit 0
fi

# ---- Node.js -------------------------------------------------------------------------
say "Checking Node.js (>= $MIN_NODE_MAJOR.$MIN_NODE_MINOR)"
get_node='Get a current one from https://nodejs.org/en/download (or: nvm install 22).'
NODE_BIN="$(type -P node || true)"
if [[ -z "$NODE_BIN" ]]; then
  die "swarmd needs Node.js >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR, but no 'node' is on PATH. $get_node"
fi
if [[ "$NODE_BIN" != /* ]]; then NODE_BIN="$PWD/$NODE_BIN"; fi
readonly NODE_BIN
node_version="$(node --version 2>/dev/null || true)"
if [[ ! "$node_version" =~ ^v([0-9]+)\.([0-9]+)\. ]]; then
  die "cannot tell the version of $NODE_BIN ('node --version' said '$node_version'); swarmd needs Node.js >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR. $get_node"
fi
node_major="${BASH_REMATCH[1]}"
node_minor="${BASH_REMATCH[2]}"
if ((node_major < MIN_NODE_MAJOR || (node_major == MIN_NODE_MAJOR && node_minor < MIN_NODE_MINOR))); then
  die "swarmd needs Node.js >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR, but found $node_version at $NODE_BIN. $get_node"
fi
note "node $node_version at $NODE_BIN"

for path in "$REPO_DIR" "$NODE_BIN" "$CONFIG_FILE"; do
  case "$path" in
    *'"'* | *\\* | *$'\n'*)
      die "the path '$path' holds a quote, backslash or newline, which a systemd unit cannot hold; use a simpler path"
      ;;
    *) ;;
  esac
done

# ---- Build ---------------------------------------------------------------------------
cd "$REPO_DIR"
if ((skip_build)); then
  say "Skipping the build (--skip-build): using the existing dist/"
else
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH (it ships with Node.js). $get_node"
  say "Installing dependencies"
  # Installs exactly the versions in package-lock.json (CI checks it leaves the file unchanged).
  npm install --no-audit --no-fund
  say "Building"
  npm run build
fi
for built in "$ENTRY" "$SWARMCTL" "$DEFAULT_FILE_MODULE"; do
  if [[ ! -f "$built" ]]; then
    die "$built is missing: the build is incomplete. Run ./install.sh without --skip-build."
  fi
done

# ---- Config --------------------------------------------------------------------------
if [[ -e "$CONFIG_FILE" ]]; then
  say "Keeping your config $CONFIG_FILE (an existing config is never overwritten)"
else
  say "Writing the default config to $CONFIG_FILE"
  mkdir -p "$CONFIG_DIR"
  config_tmp="$(mktemp "$CONFIG_DIR/.config.yaml.XXXXXX")"
  trap 'rm -f "$config_tmp"' EXIT
  # shellcheck disable=SC2016 # JavaScript, expanded by node, not by the shell
  "$NODE_BIN" --input-type=module -e '
    import { pathToFileURL } from "node:url";
    const m = await import(pathToFileURL(process.argv[1]).href);
    process.stdout.write(m.defaultConfigYaml());
  ' "$DEFAULT_FILE_MODULE" >"$config_tmp"
  chmod 600 "$config_tmp"
  mv "$config_tmp" "$CONFIG_FILE"
  trap - EXIT
  note "every option is listed there with its default and its SWARMD_* environment variable"
fi

# ---- Job sandbox ---------------------------------------------------------------------
# Coding jobs run their verification (code a model wrote) only inside bubblewrap; without it
# they refuse to verify, unless the config says jobs.sandbox: off.
bwrap_package_command() {
  local sudo=''
  if (($(id -u) != 0)); then sudo='sudo '; fi
  if command -v apt-get >/dev/null 2>&1; then printf '%sapt-get install -y bubblewrap' "$sudo"
  elif command -v dnf >/dev/null 2>&1; then printf '%sdnf install -y bubblewrap' "$sudo"
  elif command -v pacman >/dev/null 2>&1; then printf '%spacman -S --noconfirm bubblewrap' "$sudo"
  elif command -v zypper >/dev/null 2>&1; then printf '%szypper install -y bubblewrap' "$sudo"
  elif command -v apk >/dev/null 2>&1; then printf '%sapk add bubblewrap' "$sudo"
  fi
}

check_bubblewrap() {
  local err
  if err="$(bwrap --unshare-all --die-with-parent --ro-bind / / true 2>&1)"; then
    note "bubblewrap works: coding jobs verify in it (no network, only their workspace writable)"
    return 0
  fi
  if command -v bwrap >/dev/null 2>&1; then
    say "bubblewrap is installed but cannot make its sandbox here: ${err%%$'\n'*}"
    note "Coding jobs will refuse to verify until it can: unprivileged user namespaces must be allowed"
    note "(e.g. sysctl kernel.unprivileged_userns_clone=1, or an AppArmor profile for bwrap on Ubuntu 24.04+)."
    return 0
  fi
  return 1
}

say "Checking bubblewrap (the sandbox of coding jobs)"
if ! check_bubblewrap; then
  bwrap_install="$(bwrap_package_command)"
  say "bubblewrap is not installed: coding jobs will refuse to verify without it"
  answer=n
  if ((install_bubblewrap)); then
    answer=y
  elif [[ -n "$bwrap_install" && -t 0 && -t 1 ]]; then
    read -r -p "    Install it now with: $bwrap_install ? [y/N] " answer || answer=n
  fi
  if [[ -z "$bwrap_install" ]]; then
    note "Install the bubblewrap package with your system's package manager."
  elif [[ "$answer" == [yY]* ]]; then
    # Word splitting is wanted: the command is ours (sudo, a package manager, its arguments).
    # shellcheck disable=SC2086
    if $bwrap_install; then check_bubblewrap || true; else note "installing bubblewrap failed; run: $bwrap_install"; fi
  else
    note "Install it with: $bwrap_install   (or run ./install.sh --install-bubblewrap)"
  fi
  note "To verify without a sandbox instead (code a model wrote runs as you): jobs.sandbox: off in $CONFIG_FILE"
fi

# ---- Swarm identity ------------------------------------------------------------------
# After the build and config exist, before the service (re)starts, so the daemon starts
# already a member. swarmctl reads the same config file the unit gives swarmd.
swarmctl() { SWARMD_CONFIG="$CONFIG_FILE" "$NODE_BIN" "$SWARMCTL" "$@"; }

show_token() {
  note "Join token (keep it secret): $1"
  note "On every other box: ./install.sh --join <token>   (or: swarmctl join <token>)"
  note "Print it again any time with: swarmctl token"
}

if ((swarm_init)); then
  say "Starting a new swarm on this box"
  init_err="$(mktemp)"
  trap 'rm -f "$init_err"' EXIT
  if token="$(swarmctl init 2>"$init_err")"; then
    show_token "$token"
  elif token="$(swarmctl token 2>/dev/null)"; then
    # init refuses on a box that is already a member; keep that swarm and show its token.
    note "This box is already in a swarm; keeping it (swarmctl init --force would start another one)."
    show_token "$token"
  else
    cat "$init_err" >&2
    die "could not start a swarm (see above); the service was not installed or restarted"
  fi
  rm -f "$init_err"
  trap - EXIT
elif ((swarm_join)); then
  say "Joining the swarm of the token"
  # On stdin, so the token does not show in the process list.
  if ! joined="$(printf '%s\n' "$join_token" | swarmctl join -)"; then
    die "could not join the swarm (see above); the service was not installed or restarted"
  fi
  while IFS= read -r line; do note "$line"; done <<<"$joined"
fi

# Said last, so it is not lost above the service messages.
pairing_advice() {
  if ((swarm_init || swarm_join)) || swarmctl token >/dev/null 2>&1; then return 0; fi
  say "This box is not in a swarm yet: it serves no peer until it is"
  note "first box:  ./install.sh --init   (or: swarmctl init)"
  note "the others: ./install.sh --join <token>   (or: swarmctl join <token>)"
}

# ---- Service -------------------------------------------------------------------------
if ! has_user_systemd; then
  say "No systemd user session here: $no_systemd_reason"
  note "swarmd is built and configured, but not installed as a service."
  note "Run it in the foreground instead:"
  note "  node $ENTRY"
  note "It reads its config from $CONFIG_FILE"
  pairing_advice
  exit 0
fi

say "Installing user unit $UNIT_FILE"
template="$REPO_DIR/systemd/$UNIT_NAME"
[[ -f "$template" ]] || die "the unit template $template is missing from this checkout"
# Values go in with % doubled, so systemd does not read them as specifiers.
node_value="${NODE_BIN//%/%%}"
app_value="${REPO_DIR//%/%%}"
config_value="${CONFIG_FILE//%/%%}"
unit="$(<"$template")"
unit="${unit//@NODE@/"$node_value"}"
unit="${unit//@APP_DIR@/"$app_value"}"
unit="${unit//@CONFIG_FILE@/"$config_value"}"
if [[ "$unit" =~ @[A-Z_]+@ ]]; then
  die "the unit template has a placeholder install.sh does not know: ${BASH_REMATCH[0]}"
fi
mkdir -p "$UNIT_DIR"
unit_tmp="$(mktemp "$UNIT_DIR/.$UNIT_NAME.XXXXXX")"
trap 'rm -f "$unit_tmp"' EXIT
printf '%s\n' "$unit" >"$unit_tmp"
chmod 644 "$unit_tmp"
mv "$unit_tmp" "$UNIT_FILE"
trap - EXIT
systemctl --user daemon-reload
systemctl --user enable --quiet "$UNIT_NAME"

if ((no_start)); then
  say "Enabled, not started (--no-start). Start it with: systemctl --user start swarmd"
else
  say "Starting swarmd"
  if ! systemctl --user restart "$UNIT_NAME"; then
    die "swarmd did not start; see: journalctl --user -u swarmd -e"
  fi
fi

linger=''
if command -v loginctl >/dev/null 2>&1; then
  linger="$(loginctl show-user "$CURRENT_USER" -p Linger 2>/dev/null || true)"
fi
if [[ "$linger" != 'Linger=yes' ]]; then
  say "To keep swarmd running while you are logged out (and start it at boot), run once:"
  note "loginctl enable-linger $CURRENT_USER"
fi

say "Done. The OpenAI-compatible endpoint is http://127.0.0.1:8765/v1 (gateway.* in the config)"
note "config: $CONFIG_FILE"
note "status: systemctl --user status swarmd"
note "logs:   journalctl --user -u swarmd -f"
pairing_advice

# rolecall shell integration (bash and zsh) -- printed by `rolecall shell-init`.
# Defines, in the current shell: assume, unassume, rolecall_prompt, rolecall_prompt_update.
# Everything runs in this shell (no subshell), so the variables it sets stay set here.
# In zsh every function starts with `emulate -L zsh`: your options (ksh_arrays, sh_word_split, nounset,
# warn_create_global...) do not change what these functions do, and are back when they return.

# Remember the variables as they were before the first `assume`, so that `unassume` restores them exactly
# (including an AWS_PROFILE or a region of your own). Kept in plain, unexported shell variables.
_rolecall_save() {
    @ZSH_LOCAL@
    [ -n "${_ROLECALL_SAVED+x}" ] && return 0
    local __rc_n
    for __rc_n in @MANAGED_VARS@; do
        if eval "[ -n \"\${$__rc_n+x}\" ]"; then
            eval "_rolecall_old_$__rc_n=\"\$$__rc_n\""
        else
            unset "_rolecall_old_$__rc_n"
        fi
    done
    _ROLECALL_SAVED=1
}

# assume [PROFILE] [OPTIONS]: export a profile's credentials into this shell.
# rolecall's stderr (messages, the MFA prompt, the status line) goes straight to you; its stdout is evaluated only
# on success. --pick: with no profile named (no argument, no AWS_PROFILE) on a terminal, rolecall opens its picker
# on the terminal (/dev/tty: stdout is captured here); without a terminal it takes the default profile.
assume() {
    @ZSH_LOCAL@
    local __rc_arg __rc_out
    for __rc_arg in "$@"; do
        case $__rc_arg in
            -h|--help) command rolecall env "$@"; return ;;
        esac
    done
    # rolecall runs with the variables as they were before the first assume (restored inside the $(...)
    # subshell only): switching roles starts from your own identity, not from the role assumed last.
    __rc_out=$([ -z "${_ROLECALL_SAVED+x}" ] || unassume; command rolecall env --format sh --pick "$@") || return
    _rolecall_save
    eval "$__rc_out"
    # When the renewal hook will be due for these credentials: worked out now, while the whole session is ahead.
    local __rc_now=
    _rolecall_now
    [ -z "$__rc_now" ] || [ -z "${AWS_CREDENTIAL_EXPIRATION-}" ] || _rolecall_schedule
    return 0
}

# unassume: put the variables back as they were before the first assume. In a shell without that memory
# (a child shell that inherited the variables), remove every identity variable rolecall sets instead.
unassume() {
    @ZSH_LOCAL@
    local __rc_n
    if [ -n "${_ROLECALL_SAVED+x}" ]; then
        for __rc_n in @MANAGED_VARS@; do
            if eval "[ -n \"\${_rolecall_old_$__rc_n+x}\" ]"; then
                eval "export $__rc_n=\"\$_rolecall_old_$__rc_n\""
                unset "_rolecall_old_$__rc_n"
            else
                unset "$__rc_n"
            fi
        done
        unset _ROLECALL_SAVED
    else
        unset @UNSET_VARS@
    fi
    return 0
}

# Seconds since the epoch of an ISO-8601 time (YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]) into __rc_epoch,
# by shell arithmetic alone (Howard Hinnant's days-from-civil), so that the prompt starts no process.
_rolecall_epoch() {
    @ZSH_LOCAL@
    local __rc_t=$1 __rc_rest __rc_y __rc_m __rc_d __rc_off=0 __rc_mp __rc_era __rc_yoe __rc_doe
    case $__rc_t in
        [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][Tt\ ][0-9][0-9]:[0-9][0-9]:[0-9][0-9]*) ;;
        *) return 1 ;;
    esac
    __rc_rest=${__rc_t:19}
    case $__rc_rest in
        .*) __rc_rest=${__rc_rest#.}
            while case $__rc_rest in [0-9]*) true ;; *) false ;; esac; do __rc_rest=${__rc_rest#?}; done ;;
    esac
    case $__rc_rest in
        ''|Z|z|UTC) ;;
        [+-][0-9][0-9]:[0-9][0-9]|[+-][0-9][0-9][0-9][0-9])
            __rc_off=$(( 10#${__rc_rest:1:2} * 3600 + 10#${__rc_rest: -2} * 60 ))
            [ "${__rc_rest:0:1}" = - ] && __rc_off=$(( -__rc_off )) ;;
        *) return 1 ;;
    esac
    __rc_y=$(( 10#${__rc_t:0:4} )) __rc_m=$(( 10#${__rc_t:5:2} )) __rc_d=$(( 10#${__rc_t:8:2} ))
    (( __rc_m <= 2 )) && __rc_y=$(( __rc_y - 1 ))
    __rc_era=$(( __rc_y / 400 ))
    __rc_yoe=$(( __rc_y - __rc_era * 400 ))
    __rc_mp=$(( (__rc_m + 9) % 12 ))
    __rc_doe=$(( __rc_yoe * 365 + __rc_yoe / 4 - __rc_yoe / 100 + (153 * __rc_mp + 2) / 5 + __rc_d - 1 ))
    __rc_epoch=$(( (__rc_era * 146097 + __rc_doe - 719468) * 86400 + 10#${__rc_t:11:2} * 3600
        + 10#${__rc_t:14:2} * 60 + 10#${__rc_t:17:2} - __rc_off ))
}

# rolecall_prompt_update: set ROLECALL_PROMPT to e.g. "prod 42m", "prod 1h05m", "prod expired" (or empty
# when no profile was assumed) from ROLECALL_PROFILE and AWS_CREDENTIAL_EXPIRATION. It starts no process:
# call it from PROMPT_COMMAND (bash) or precmd (zsh) and put ${ROLECALL_PROMPT} in the prompt.
# The profile name is shown as text, never read as prompt code: control characters (which could drive the
# terminal: colours, the window title) become '?', and in zsh each % is doubled (_rolecall_prompt_name), since zsh
# expands % sequences in what a prompt's ${ROLECALL_PROMPT} or $(rolecall_prompt) gives. bash expands neither
# backslash escapes nor $(...) in the values of its prompt's variables, and nothing else is needed there.
rolecall_prompt_update() {
    @ZSH_LOCAL@
    ROLECALL_PROMPT=
    [ -n "${ROLECALL_PROFILE-}" ] || return 0
    local __rc_name
    _rolecall_prompt_name
    ROLECALL_PROMPT=$__rc_name
    [ -n "${AWS_CREDENTIAL_EXPIRATION-}" ] || return 0
    local __rc_now= __rc_epoch= __rc_left __rc_min
    _rolecall_now
    [ -n "$__rc_now" ] || return 0
    _rolecall_epoch "$AWS_CREDENTIAL_EXPIRATION" || return 0
    __rc_left=$(( __rc_epoch - __rc_now ))
    if (( __rc_left <= 0 )); then
        ROLECALL_PROMPT="$__rc_name expired"
        _rolecall_prompt_colour
        return 0
    fi
    # Rounded up: with 30 seconds left the prompt says 1m, never 0m.
    __rc_min=$(( (__rc_left + 59) / 60 ))
    if (( __rc_min < 60 )); then
        ROLECALL_PROMPT="$__rc_name ${__rc_min}m"
    else
        printf -v ROLECALL_PROMPT '%s %dh%02dm' "$__rc_name" $(( __rc_min / 60 )) $(( __rc_min % 60 ))
    fi
    _rolecall_prompt_colour
}

# rolecall_prompt: print the segment (for "$(rolecall_prompt)" in a prompt; the $(...) costs a fork).
rolecall_prompt() {
    @ZSH_LOCAL@
    rolecall_prompt_update
    printf '%s' "$ROLECALL_PROMPT"
}

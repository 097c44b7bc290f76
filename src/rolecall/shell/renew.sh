
# --- renewal before each command, and the expiry notification (bash and zsh; docs/shells.md) ---
# State, in plain unexported shell variables: _rolecall_seen (the AWS_CREDENTIAL_EXPIRATION the times below were
# worked out for), _rolecall_end (its epoch), _rolecall_renew_at, _rolecall_notify_at and _rolecall_next (the
# earliest of the two: before it, nothing is done). Before each command line, while nothing is due, the hook does
# one string comparison and one integer comparison: no process, no subshell (the prompt segment's clock).
_rolecall_never=999999999999

# _rolecall_preexec: the hook run before each command line (bash: the DEBUG trap, armed once per line by PS0;
# zsh: preexec).
_rolecall_preexec() {
    @ZSH_LOCAL@
    [ -n "${AWS_CREDENTIAL_EXPIRATION-}" ] && [ -n "${ROLECALL_PROFILE-}" ] || return 0
    local __rc_now=
    _rolecall_now
    [ -n "$__rc_now" ] || return 0
    if [ "${_rolecall_seen-}" != "$AWS_CREDENTIAL_EXPIRATION" ]; then
        _rolecall_schedule || return 0
    fi
    (( __rc_now >= _rolecall_next )) || return 0
    _rolecall_due
}

# Work out when the exported session is due, at __rc_now: renewal in botocore's advisory window (15 minutes
# before the end), but never before half of the time left has passed (a 60 s session: at 30 s, as rolecall's
# refreshing credentials do); the notification 5 minutes before the end, or at a sixth of the time left.
_rolecall_schedule() {
    @ZSH_LOCAL@
    local __rc_epoch= __rc_left __rc_w
    _rolecall_seen=$AWS_CREDENTIAL_EXPIRATION
    _rolecall_next=$_rolecall_never
    _rolecall_epoch "$AWS_CREDENTIAL_EXPIRATION" || return 1
    __rc_left=$(( __rc_epoch - __rc_now ))
    __rc_w=$(( __rc_left / 2 ))
    (( __rc_w > 900 )) && __rc_w=900
    _rolecall_renew_at=$(( __rc_epoch - __rc_w ))
    __rc_w=$(( __rc_left / 6 ))
    (( __rc_w > 300 )) && __rc_w=300
    _rolecall_notify_at=$(( __rc_epoch - __rc_w ))
    _rolecall_end=$__rc_epoch
    _rolecall_next=$(( _rolecall_renew_at < _rolecall_notify_at ? _rolecall_renew_at : _rolecall_notify_at ))
    return 0
}

# Something is due: renew (unless ROLECALL_SHELL_RENEW=0), else notify (ROLECALL_NOTIFY=1), then the next time.
_rolecall_due() {
    @ZSH_LOCAL@
    if [ "${ROLECALL_SHELL_RENEW-1}" != 0 ] && (( __rc_now >= _rolecall_renew_at )); then
        _rolecall_renew && return 0
    fi
    if [ "${ROLECALL_NOTIFY-0}" = 1 ] && (( __rc_now >= _rolecall_notify_at )); then
        _rolecall_notify
        _rolecall_notify_at=$_rolecall_never
    fi
    _rolecall_next=$_rolecall_never
    [ "${ROLECALL_SHELL_RENEW-1}" = 0 ] || _rolecall_next=$_rolecall_renew_at
    if [ "${ROLECALL_NOTIFY-0}" = 1 ] && (( _rolecall_notify_at < _rolecall_next )); then
        _rolecall_next=$_rolecall_notify_at
    fi
    return 0
}

# Renew the exported profile: `rolecall env --no-prompt` from the variables before the first assume (as assume
# runs it), keeping the region exported now. From the cache, or a silent STS call while the MFA, SSO or login
# session lives; when renewing needs a person (exit 5: an MFA code, 10: a sign-in) one line says so and it is
# not tried again for these credentials; another failure is tried again a minute later.
_rolecall_renew() {
    @ZSH_LOCAL@
    local __rc_out __rc_status __rc_p=$ROLECALL_PROFILE __rc_min __rc_name __rc_need
    local -a __rc_opts
    case $__rc_p in
        arn:*)  # a role assumed with --role-arn: its source and options are not kept in the shell
            _rolecall_renew_at=$_rolecall_never
            printf 'rolecall: the credentials of %s in this shell end soon; a role assumed with --role-arn is not renewed by the shell: run that assume again, or keep the role as a profile (the add-role line it printed)\n' \
                "${__rc_p//[[:cntrl:]]/?}" >&2
            return 1 ;;
    esac
    __rc_opts=(--format sh --quiet --no-prompt)
    [ -z "${AWS_REGION-}" ] || __rc_opts+=(--region "$AWS_REGION")
    __rc_out=$([ -z "${_ROLECALL_SAVED+x}" ] || unassume
        command rolecall env "${__rc_opts[@]}" -- "$__rc_p" 2>/dev/null </dev/null)
    __rc_status=$?
    if [ "$__rc_status" = 0 ] && [ -n "$__rc_out" ]; then
        _rolecall_save
        eval "$__rc_out"
        return 0
    fi
    __rc_name=${__rc_p//[[:cntrl:]]/?}
    __rc_min=$(( (_rolecall_end - __rc_now + 59) / 60 ))
    if (( __rc_min > 0 )); then __rc_min="end in $__rc_min min"; else __rc_min="have expired"; fi
    case $__rc_status in
        5|10)
            _rolecall_renew_at=$_rolecall_never
            __rc_need='an MFA code'
            [ "$__rc_status" = 5 ] || __rc_need='a sign-in'
            printf 'rolecall: the credentials of %s in this shell %s; renewing them needs you (%s): run assume %s\n' \
                "$__rc_name" "$__rc_min" "$__rc_need" "$__rc_name" >&2 ;;
        *)
            _rolecall_renew_at=$(( __rc_now + 60 ))
            printf 'rolecall: the credentials of %s in this shell %s and could not be renewed (exit %s, docs/exit-codes.md); trying again in a minute, or run assume %s\n' \
                "$__rc_name" "$__rc_min" "$__rc_status" "$__rc_name" >&2 ;;
    esac
    return 1
}

# A desktop notification (notify-send, when there is one), started in the background so the command waits for
# nothing.
_rolecall_notify() {
    @ZSH_LOCAL@
    command -v notify-send >/dev/null 2>&1 || return 0
    local __rc_name=${ROLECALL_PROFILE//[[:cntrl:]]/?}
    local __rc_min=$(( (_rolecall_end - __rc_now + 59) / 60 ))
    ( command notify-send --app-name=rolecall "rolecall: $__rc_name" \
        "The AWS credentials of $__rc_name in your shell end in $__rc_min min: run assume $__rc_name" \
        </dev/null >/dev/null 2>&1 & )
}

# The prompt segment's colour, around ROLECALL_PROMPT (__rc_left seconds left): yellow under 15 minutes, red under
# 5 and when expired; only on a terminal that takes colours, and never with NO_COLOR set (no-color.org).
_rolecall_prompt_colour() {
    @ZSH_LOCAL@
    local __rc_c
    [ -z "${NO_COLOR-}" ] && [ -t 2 ] || return 0
    case ${TERM-dumb} in dumb|'') return 0 ;; esac
    if (( __rc_left < 300 )); then __rc_c=red; elif (( __rc_left < 900 )); then __rc_c=yellow; else return 0; fi
    _rolecall_colour_wrap "$__rc_c"
}


# --- renewal before each command, and the expiry notification (fish; docs/shells.md) ---
# State in globals: _rolecall_seen (the AWS_CREDENTIAL_EXPIRATION the times were worked out for), _rolecall_end
# (its epoch), _rolecall_renew_at, _rolecall_notify_at, _rolecall_next (the earliest: before it nothing is done).
# While nothing is due the hook runs builtins and functions only (fish 3.5+: `path`, `math`, `test`): no process.
set -g _rolecall_never 999999999999

# The hook, on fish_preexec (before each command line).
function _rolecall_preexec --on-event fish_preexec
    set -q AWS_CREDENTIAL_EXPIRATION[1]; and set -q ROLECALL_PROFILE[1]; or return 0
    test -n "$AWS_CREDENTIAL_EXPIRATION" -a -n "$ROLECALL_PROFILE"; or return 0
    set -l now (_rolecall_now)
    if test "$_rolecall_seen" != "$AWS_CREDENTIAL_EXPIRATION"
        _rolecall_schedule $now; or return 0
    end
    test $now -ge $_rolecall_next; or return 0
    _rolecall_due $now
end

# When the exported session is due (as in bash and zsh): renewal at 15 minutes before the end but not before half
# the time left has passed; the notification at 5 minutes before the end or a sixth of the time left.
function _rolecall_schedule --argument-names now
    set -g _rolecall_seen "$AWS_CREDENTIAL_EXPIRATION"
    set -g _rolecall_next $_rolecall_never
    set -l epoch (_rolecall_epoch "$AWS_CREDENTIAL_EXPIRATION"); or return 1
    set -l left (math $epoch - $now)
    set -g _rolecall_renew_at (math $epoch - "min(900, floor($left / 2))")
    set -g _rolecall_notify_at (math $epoch - "min(300, floor($left / 6))")
    set -g _rolecall_end $epoch
    set -g _rolecall_next (math "min($_rolecall_renew_at, $_rolecall_notify_at)")
    return 0
end

# Something is due: renew (unless ROLECALL_SHELL_RENEW=0), else notify (ROLECALL_NOTIFY=1), then the next time.
function _rolecall_due --argument-names now
    set -l renew 1
    set -q ROLECALL_SHELL_RENEW; and test "$ROLECALL_SHELL_RENEW" = 0; and set renew 0
    set -l notify 0
    set -q ROLECALL_NOTIFY; and test "$ROLECALL_NOTIFY" = 1; and set notify 1
    if test $renew = 1 -a $now -ge $_rolecall_renew_at
        _rolecall_renew $now; and return 0
    end
    if test $notify = 1 -a $now -ge $_rolecall_notify_at
        _rolecall_notify $now
        set -g _rolecall_notify_at $_rolecall_never
    end
    set -g _rolecall_next $_rolecall_never
    test $renew = 1; and set -g _rolecall_next $_rolecall_renew_at
    if test $notify = 1 -a $_rolecall_notify_at -lt $_rolecall_next
        set -g _rolecall_next $_rolecall_notify_at
    end
    return 0
end

# Renew the exported profile with `rolecall env --no-prompt` from the variables before the first assume, keeping
# the region exported now. A person needed (exit 5: an MFA code, 10: a sign-in): one line, not tried again for
# these credentials; another failure: one line, tried again a minute later.
function _rolecall_renew --argument-names now
    set -l profile $ROLECALL_PROFILE
    if string match -q -- 'arn:*' $profile  # a role assumed with --role-arn: its source and options are not kept
        set -g _rolecall_renew_at $_rolecall_never
        printf 'rolecall: the credentials of %s in this shell end soon; a role assumed with --role-arn is not renewed by the shell: run that assume again, or keep the role as a profile (the add-role line it printed)\n' \
            (string replace -ra -- '[[:cntrl:]]' '?' "$profile") >&2
        return 1
    end
    set -l opts --quiet --no-prompt
    set -q AWS_REGION; and test -n "$AWS_REGION"; and set -a opts --region $AWS_REGION
    set -l out (_rolecall_env_from_baseline $opts -- $profile 2>/dev/null </dev/null)
    set -l code $status
    if test $code = 0 -a (count $out) -gt 0
        _rolecall_save
        string join \n -- $out | source
        return 0
    end
    set -l name (string replace -ra -- '[[:cntrl:]]' '?' "$profile")
    set -l min (math "floor(($_rolecall_end - $now + 59) / 60)")
    set -l when "end in $min min"
    test $min -gt 0; or set when "have expired"
    if test $code = 5 -o $code = 10
        set -g _rolecall_renew_at $_rolecall_never
        set -l need 'an MFA code'
        test $code = 10; and set need 'a sign-in'
        printf 'rolecall: the credentials of %s in this shell %s; renewing them needs you (%s): run assume %s\n' \
            $name $when $need $name >&2
    else
        set -g _rolecall_renew_at (math $now + 60)
        printf 'rolecall: the credentials of %s in this shell %s and could not be renewed (exit %s, docs/exit-codes.md); trying again in a minute, or run assume %s\n' \
            $name $when $code $name >&2
    end
    return 1
end

# A desktop notification (notify-send, when there is one), in the background.
function _rolecall_notify --argument-names now
    command -q notify-send; or return 0
    set -l name (string replace -ra -- '[[:cntrl:]]' '?' "$ROLECALL_PROFILE")
    set -l min (math "floor(($_rolecall_end - $now + 59) / 60)")
    command notify-send --app-name=rolecall "rolecall: $name" \
        "The AWS credentials of $name in your shell end in $min min: run assume $name" </dev/null >/dev/null 2>&1 &
    disown $last_pid 2>/dev/null
end

# The prompt segment's colour around ROLECALL_PROMPT ($argv[1]: seconds left): yellow under 15 minutes, red under
# 5 and when expired; only on a terminal that takes colours, never with NO_COLOR set. set_color is a builtin.
function _rolecall_prompt_colour --argument-names left
    set -q NO_COLOR[1]; and test -n "$NO_COLOR"; and return 0
    test -t 1; or return 0
    set -q TERM[1]; and test -n "$TERM" -a "$TERM" != dumb; or return 0
    set -l colour
    if test $left -lt 300
        set colour red
    else if test $left -lt 900
        set colour yellow
    else
        return 0
    end
    set -g ROLECALL_PROMPT (set_color $colour)"$ROLECALL_PROMPT"(set_color normal)
end

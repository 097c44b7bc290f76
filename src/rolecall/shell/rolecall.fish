# rolecall shell integration (fish) -- printed by `rolecall shell-init fish`.
# Defines, in the current shell: assume, unassume, rolecall_prompt, rolecall_prompt_update.

# Remember the variables as they were before the first `assume`, so that `unassume` restores them exactly.
function _rolecall_save
    set -q _rolecall_saved; and return 0
    for __rc_n in @MANAGED_VARS@
        if set -q $__rc_n
            set -g _rolecall_old_$__rc_n $$__rc_n
        else
            set -e -g _rolecall_old_$__rc_n
        end
    end
    set -g _rolecall_saved 1
end

# Run `rolecall env` with the variables as they were before the first assume, so that switching roles starts
# from your own identity, not from the role assumed last. The function-scope locals (-lx to restore a value,
# -lu to hide a variable from the child) vanish when it returns. The lines are unrolled, not a loop: a `set -l`
# inside a loop or an `if` would be local to that block.
function _rolecall_env_from_baseline
    if not set -q _rolecall_saved
        command rolecall env --format fish --pick $argv
        return
    end
@FISH_BASELINE@
    command rolecall env --format fish --pick $argv
end

# assume [PROFILE] [OPTIONS]: export a profile's credentials into this shell.
# rolecall's stderr (messages, the MFA prompt, the status line) goes straight to you; its stdout is sourced only
# on success. With no profile named on a terminal, rolecall's picker opens on the terminal (--pick, /dev/tty).
function assume --description 'Export an AWS profile\'s credentials into this shell (rolecall)'
    if contains -- -h $argv; or contains -- --help $argv
        command rolecall env $argv
        return
    end
    # The command substitution splits the output into lines; joining them with newlines gives it back whole.
    set -l __rc_out (_rolecall_env_from_baseline $argv)
    or return
    _rolecall_save
    string join \n -- $__rc_out | source
    # When the renewal hook will be due for these credentials: worked out now, while the whole session is ahead.
    set -q AWS_CREDENTIAL_EXPIRATION[1]; and _rolecall_schedule (_rolecall_now)
    # A universal variable (set -U) is never erased by rolecall: that would change every fish session.
    for __rc_n in AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SECURITY_TOKEN
        if set -q -U $__rc_n; and not set -q -g $__rc_n
            echo "rolecall: warning: $__rc_n is a fish universal variable and still set here (hint: set -e -U $__rc_n)" >&2
        end
    end
    return 0
end

# unassume: put the variables back as they were before the first assume. In a shell without that memory
# (a child shell that inherited the variables), remove every identity variable rolecall sets instead.
function unassume --description 'Undo assume: restore the AWS variables as they were (rolecall)'
    if set -q _rolecall_saved
        for __rc_n in @MANAGED_VARS@
            set -l __rc_old _rolecall_old_$__rc_n
            if set -q $__rc_old
                set -gx $__rc_n $$__rc_old
                set -e -g $__rc_old
            else
                set -e -g $__rc_n
            end
        end
        set -e -g _rolecall_saved
    else
        set -e -g @UNSET_VARS@
    end
    return 0
end

# The current time in seconds since the epoch without starting a process. fish has no clock builtin, but
# `path mtime` (fish 3.5+) gives a file's mtime and, with -R, the seconds since it: their sum is now.
# Before fish 3.5 this falls back to `date +%s`, which does start a process.
function _rolecall_now
    if builtin -q path
        math (path mtime /) + (path mtime -R /)
    else
        date +%s
    end
end

# Seconds since the epoch of an ISO-8601 time (YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]), printed; status 1
# when it does not parse. days-from-civil (Howard Hinnant) with `math`, a builtin: no process is started.
function _rolecall_epoch
    set -l m (string match -r -- '^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|z|UTC|[+-]\d\d:?\d\d)?$' $argv[1])
    or return 1
    set -l y (math $m[2])
    set -l mo (math $m[3])
    set -l off 0
    if string match -q -r -- '^[+-]' "$m[8]"
        set -l z (string replace -- ':' '' $m[8])
        set off (math (string sub -s 2 -l 2 -- $z) \* 3600 + (string sub -s 4 -l 2 -- $z) \* 60)
        string match -q -- '-*' $z; and set off (math -- -$off)
    end
    test $mo -le 2; and set y (math $y - 1)
    set -l era (math "floor($y / 400)")
    set -l yoe (math $y - $era \* 400)
    set -l mp (math "($mo + 9) % 12")
    set -l doe (math "$yoe * 365 + floor($yoe / 4) - floor($yoe / 100) + floor((153 * $mp + 2) / 5) + $m[4] - 1")
    math "($era * 146097 + $doe - 719468) * 86400 + $m[5] * 3600 + $m[6] * 60 + $m[7] - ($off)"
end

# rolecall_prompt_update: set ROLECALL_PROMPT to e.g. "prod 42m", "prod 1h05m", "prod expired" (or empty
# when no profile was assumed) from ROLECALL_PROFILE and AWS_CREDENTIAL_EXPIRATION. Only builtins and
# functions run, and fish runs those in command substitutions in-process.
# The profile name is shown as text: control characters (which could drive the terminal: colours, the window
# title) become '?'. fish reads nothing in a prompt function's output as code.
function rolecall_prompt_update
    set -g ROLECALL_PROMPT ''
    set -q ROLECALL_PROFILE; and test -n "$ROLECALL_PROFILE"; or return 0
    set -l name (string replace -ra -- '[[:cntrl:]]' '?' "$ROLECALL_PROFILE")
    set -g ROLECALL_PROMPT "$name"
    set -q AWS_CREDENTIAL_EXPIRATION; or return 0
    set -l epoch (_rolecall_epoch "$AWS_CREDENTIAL_EXPIRATION"); or return 0
    set -l left (math $epoch - (_rolecall_now))
    if test $left -le 0
        set -g ROLECALL_PROMPT "$name expired"
        _rolecall_prompt_colour $left
        return 0
    end
    # Rounded up: with 30 seconds left the prompt says 1m, never 0m.
    set -l min (math "floor(($left + 59) / 60)")
    if test $min -lt 60
        set -g ROLECALL_PROMPT "$name "$min"m"
    else
        set -g ROLECALL_PROMPT (printf '%s %dh%02dm' "$name" (math "floor($min / 60)") (math "$min % 60"))
    end
    _rolecall_prompt_colour $left
end

# rolecall_prompt: print the segment, e.g. from fish_prompt or fish_right_prompt.
function rolecall_prompt
    rolecall_prompt_update
    printf '%s' $ROLECALL_PROMPT
end

# Tab completion of profile names, from `rolecall __complete profiles` (one name per line, as
# `rolecall configure list-profiles` prints them, without building a command's parser).
complete -c assume -f -n 'not string match -q -- "-*" (commandline -ct)' -a '(command rolecall __complete profiles 2>/dev/null)'

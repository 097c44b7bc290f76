
# --- bash ---
# The current time without a process: $EPOCHSECONDS (bash 5) or printf's %(...)T (bash 4.2). Older bash
# (macOS's 3.2) has neither: the prompt segment then shows the profile without the time left.
_rolecall_now() {
    if [ -n "${EPOCHSECONDS-}" ]; then
        __rc_now=$EPOCHSECONDS
    elif (( BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2) )); then
        printf -v __rc_now '%(%s)T' -1
    fi
}

# The profile name for the prompt segment, into __rc_name: control characters as '?' (see rolecall_prompt_update).
_rolecall_prompt_name() {
    __rc_name=${ROLECALL_PROFILE//[[:cntrl:]]/?}
}

# Tab completion of profile names, from `rolecall __complete profiles` (one name per line, as
# `rolecall configure list-profiles` prints them, without building a command's parser).
_rolecall_complete_assume() {
    local __rc_cur=${COMP_WORDS[COMP_CWORD]} __rc_p
    COMPREPLY=()
    case $__rc_cur in -*) return 0 ;; esac
    while IFS= read -r __rc_p; do
        [[ $__rc_p == "$__rc_cur"* ]] && COMPREPLY+=("$__rc_p")
    done < <(command rolecall __complete profiles 2>/dev/null)
    return 0
}
complete -F _rolecall_complete_assume assume

# The prompt segment's colour ($1: red or yellow). \001 and \002 tell readline the escape codes take no room.
_rolecall_colour_wrap() {
    local __rc_code=33
    [ "$1" = red ] && __rc_code=31
    ROLECALL_PROMPT=$'\001\e['"$__rc_code"$'m\002'"$ROLECALL_PROMPT"$'\001\e[0m\002'
}

# The renewal hook, before each command line (ROLECALL_SHELL_RENEW=0 turns renewal off; docs/shells.md). PS0 is
# expanded once per command line, after it is read and before it runs: its arithmetic arms the flag, in this
# shell, with no process; the DEBUG trap runs before each simple command and acts only when armed, so a loop
# typed at the prompt pays one test per command. bash-preexec, when loaded, runs it instead. A DEBUG trap of your
# own is kept and runs after it.
_rolecall_armed=0
_rolecall_debug() {
    (( _rolecall_armed )) || return 0
    _rolecall_armed=0
    _rolecall_preexec
}
_rolecall_install_hook() {
    local __rc_trap
    if [ -n "${bash_preexec_imported-}${__bp_imported-}" ]; then
        [[ " ${preexec_functions[*]-} " == *" _rolecall_preexec "* ]] || preexec_functions+=(_rolecall_preexec)
        return 0
    fi
    if (( BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4) )); then
        [[ ${PS0-} == *_rolecall_armed* ]] || PS0=${PS0-}'${_rolecall_none[$((_rolecall_armed=1))]-}'
    else
        [[ ${PROMPT_COMMAND-} == *_rolecall_armed* ]] ||
            PROMPT_COMMAND=${PROMPT_COMMAND:+$PROMPT_COMMAND$'\n'}_rolecall_armed=1
    fi
    __rc_trap=${_rolecall_user_trap-}
    case $__rc_trap in
        *_rolecall_debug*) return 0 ;;
        '') trap _rolecall_debug DEBUG ;;
        *)  __rc_trap=${__rc_trap#trap -- }
            eval "__rc_trap=${__rc_trap% DEBUG}"
            trap "_rolecall_debug; $__rc_trap" DEBUG ;;
    esac
}
# The DEBUG trap already set (yours) must be read at the top level: bash hides it inside functions and sourced files
# (the installed block reads it before sourcing this file, into _rolecall_user_trap). Whether there is one is told
# without a subshell (start-up starts no process): printing it to /dev/full fails only when there is something to
# print (bash 5 checks the write). Only then is it read, with $(...).
if [[ $- == *i* ]]; then
    if [ -z "${_rolecall_user_trap+x}" ]; then
        _rolecall_user_trap=
        if (( BASH_VERSINFO[0] < 5 )) || ! { trap -p DEBUG >/dev/full; } 2>/dev/null; then
            _rolecall_user_trap=$(trap -p DEBUG)
        fi
    fi
    _rolecall_install_hook
    unset _rolecall_user_trap
fi

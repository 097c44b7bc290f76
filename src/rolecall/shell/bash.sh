
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

# Tab completion of profile names, from `rolecall configure list-profiles` (one name per line).
_rolecall_complete_assume() {
    local __rc_cur=${COMP_WORDS[COMP_CWORD]} __rc_p
    COMPREPLY=()
    case $__rc_cur in -*) return 0 ;; esac
    while IFS= read -r __rc_p; do
        [[ $__rc_p == "$__rc_cur"* ]] && COMPREPLY+=("$__rc_p")
    done < <(command rolecall configure list-profiles 2>/dev/null)
    return 0
}
complete -F _rolecall_complete_assume assume


# --- completion of rolecall itself: commands, sub-commands, options and the names they take (profiles,
# sso-sessions, formats, shells...). `rolecall __complete` works the candidates out from rolecall's own argument
# parsers, only when Tab is pressed: nothing runs here at start-up. Its first line may instead tell the shell to
# complete a file (@files), a folder (@dirs), a program (@commands), or a command line of its own from word K on
# (@delegate K: `rolecall exec PROFILE CMD ARGS...`, through bash-completion's _command_offset when it is loaded).
_rolecall_complete() {
    local __rc_line __rc_first=1 __rc_do= __rc_cur=${COMP_WORDS[COMP_CWORD]}
    COMPREPLY=()
    while IFS= read -r __rc_line; do
        if (( __rc_first )); then
            __rc_first=0
            case $__rc_line in @*) __rc_do=$__rc_line; continue ;; esac
        fi
        COMPREPLY+=("$__rc_line")
    done < <(command rolecall __complete bash "$COMP_WORDBREAKS" "${COMP_LINE:0:COMP_POINT}" 2>/dev/null)
    case $__rc_do in
        @files) compopt -o default 2>/dev/null ;;
        @dirs) compopt -o dirnames 2>/dev/null ;;
        @commands)
            while IFS= read -r __rc_line; do COMPREPLY+=("$__rc_line"); done < <(compgen -c -- "$__rc_cur") ;;
        @delegate\ *)
            if declare -F _command_offset >/dev/null; then
                _command_offset "${__rc_do#@delegate }"
            elif (( COMP_CWORD == ${__rc_do#@delegate } )); then
                while IFS= read -r __rc_line; do COMPREPLY+=("$__rc_line"); done < <(compgen -c -- "$__rc_cur")
            else
                compopt -o default 2>/dev/null
            fi ;;
    esac
    return 0
}
complete -F _rolecall_complete rolecall

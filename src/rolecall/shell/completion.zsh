
# --- completion of rolecall itself: commands, sub-commands, options and the names they take (profiles,
# sso-sessions, formats, shells...). `rolecall __complete` works the candidates out from rolecall's own argument
# parsers, only when Tab is pressed: nothing runs here at start-up. Its first line may instead tell the shell to
# complete a file (@files), a folder (@dirs), a program (@commands), or a command line of its own from word K on
# (@delegate K: `rolecall exec PROFILE CMD ARGS...`). Registered when the completion system is loaded.
_rolecall() {
    local -a __rc_lines
    __rc_lines=("${(@f)$(command rolecall __complete zsh -- "${(@Q)words[2,CURRENT-1]}" "${(Q)PREFIX}" 2>/dev/null)}")
    case ${__rc_lines[1]} in
        '') return 1 ;;
        @files) _files ;;
        @dirs) _files -/ ;;
        @commands) _command_names -e ;;
        @delegate\ *)
            local __rc_k=${__rc_lines[1]#@delegate }
            shift $__rc_k words
            (( CURRENT -= __rc_k ))
            _normal ;;
        *) _describe -t values rolecall __rc_lines ;;
    esac
}
if (( ${+functions[compdef]} )); then
    compdef _rolecall rolecall
fi

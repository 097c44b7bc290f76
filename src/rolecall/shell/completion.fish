
# --- completion of rolecall itself: commands, sub-commands, options and the names they take (profiles,
# sso-sessions, formats, shells...). `rolecall __complete` works the candidates out from rolecall's own argument
# parsers, only when Tab is pressed: nothing runs here at start-up. Its first line may instead tell the shell to
# complete a file (@files), a folder (@dirs), a program (@commands), or a command line of its own from word K on
# (@delegate K: `rolecall exec PROFILE CMD ARGS...`).
function __rolecall_complete
    set -l __rc_words (commandline -opc)
    set -l __rc_cur (commandline -ct)
    set -l __rc_out (command rolecall __complete fish -- $__rc_words[2..-1] "$__rc_cur" 2>/dev/null)
    switch "$__rc_out[1]"
        case @files
            __fish_complete_path "$__rc_cur"
        case @dirs
            __fish_complete_directories "$__rc_cur"
        case @commands
            complete -C "$__rc_cur"
        case '@delegate *'
            set -l __rc_k (string replace -- '@delegate ' '' $__rc_out[1])
            complete -C (string join ' ' -- (string escape -- $__rc_words[(math $__rc_k + 1)..-1]) "$__rc_cur")
        case '*'
            string join \n -- $__rc_out
    end
end
complete -c rolecall -f -a '(__rolecall_complete)'


# --- zsh ---
# $EPOCHSECONDS comes from the zsh/datetime module (loaded in-process, no command is run).
zmodload zsh/datetime 2>/dev/null
_rolecall_now() {
    emulate -L zsh
    __rc_now=${EPOCHSECONDS-}
}

# The profile name for the prompt segment, into __rc_name: control characters as '?', and every % doubled, since
# zsh expands % sequences (%F{red}, %n, %D{...}) in prompts, PROMPT_SUBST or not (see rolecall_prompt_update).
_rolecall_prompt_name() {
    emulate -L zsh
    __rc_name=${ROLECALL_PROFILE//[[:cntrl:]]/?}
    __rc_name=${__rc_name//\%/%%}
}

# Tab completion of profile names, from `rolecall __complete profiles` (one name per line, as
# `rolecall configure list-profiles` prints them, without building a command's parser).
# Registered when the completion system is loaded: put the shell-init line after `compinit`.
_rolecall_assume() {
    emulate -L zsh
    local -a __rc_profiles
    __rc_profiles=(${(f)"$(command rolecall __complete profiles 2>/dev/null)"})
    compadd -a __rc_profiles
}
if (( ${+functions[compdef]} )); then
    compdef _rolecall_assume assume
fi

# The prompt segment's colour ($1: red or yellow), as zsh prompt escapes.
_rolecall_colour_wrap() {
    emulate -L zsh
    ROLECALL_PROMPT="%F{$1}$ROLECALL_PROMPT%f"
}

# The renewal hook before each command line (ROLECALL_SHELL_RENEW=0 turns renewal off; docs/shells.md).
# add-zsh-hook is a function file of zsh's own: loading it starts no process.
if [[ -o interactive ]] && autoload -Uz add-zsh-hook 2>/dev/null; then
    add-zsh-hook preexec _rolecall_preexec
fi

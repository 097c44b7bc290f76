# rolecall shell integration (PowerShell 7) -- printed by `rolecall shell-init pwsh`.
# Add to $PROFILE:  rolecall shell-init pwsh | Out-String | Invoke-Expression
# Defines, in the current session: assume, unassume, rolecall_prompt.

$global:_RolecallVars = @(@MANAGED_VARS_PS@)
$global:_RolecallUnset = @(@UNSET_VARS_PS@)

# Remember the variables as they were before the first `assume`, so that `unassume` restores them exactly.
function global:_rolecall_save {
    if ($null -ne $global:_RolecallSaved) { return }
    $saved = @{}
    foreach ($name in $global:_RolecallVars) {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
    }
    $global:_RolecallSaved = $saved
}

# Set each variable of $table (name -> value, $null = absent) in the process environment.
function global:_rolecall_apply($table) {
    foreach ($name in $global:_RolecallVars) {
        [Environment]::SetEnvironmentVariable($name, $table[$name])
    }
}

# assume [PROFILE] [OPTIONS]: export a profile's credentials into this session.
# rolecall's stderr (messages, the MFA prompt, the status line) goes straight to you; its output is evaluated only
# on success. With no profile named on a terminal (Linux, macOS), rolecall's picker opens on /dev/tty (--pick).
# rolecall runs with the variables as they were before the first assume (switching is not chaining); the
# current ones are put back before the output is evaluated.
function global:assume {
    if ($args -contains '-h' -or $args -contains '--help') {
        & rolecall env @args
        return
    }
    $current = @{}
    foreach ($name in $global:_RolecallVars) {
        $current[$name] = [Environment]::GetEnvironmentVariable($name)
    }
    try {
        if ($null -ne $global:_RolecallSaved) { _rolecall_apply $global:_RolecallSaved }
        $out = & rolecall env --format powershell --pick @args
        $status = $LASTEXITCODE
    } finally {
        _rolecall_apply $current
    }
    if ($status -ne 0) { $global:LASTEXITCODE = $status; return }
    _rolecall_save
    Invoke-Expression (($out | ForEach-Object { $_ }) -join "`n")
}

# unassume: put the variables back as they were before the first assume, or remove every identity variable.
function global:unassume {
    if ($null -ne $global:_RolecallSaved) {
        _rolecall_apply $global:_RolecallSaved
        $global:_RolecallSaved = $null
    } else {
        foreach ($name in $global:_RolecallUnset) {
            Remove-Item -Path "Env:$name" -ErrorAction SilentlyContinue
        }
    }
}

# rolecall_prompt: "prod 42m", "prod 1h05m", "prod expired", or "" (no process is started).
function global:rolecall_prompt {
    $profileName = $Env:ROLECALL_PROFILE
    if (-not $profileName) { return '' }
    # Shown as text: control characters (which could drive the terminal) become '?'.
    $profileName = $profileName -replace '\p{Cc}', '?'
    $expiry = $Env:AWS_CREDENTIAL_EXPIRATION
    if (-not $expiry) { return $profileName }
    $parsed = [DateTimeOffset]::MinValue
    $styles = [Globalization.DateTimeStyles]::AssumeUniversal
    if (-not [DateTimeOffset]::TryParse($expiry, [Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) {
        return $profileName
    }
    $left = ($parsed - [DateTimeOffset]::UtcNow).TotalSeconds
    if ($left -le 0) { return "$profileName expired" }
    $minutes = [int][Math]::Ceiling($left / 60)
    if ($minutes -lt 60) { return "$profileName ${minutes}m" }
    return ('{0} {1}h{2:00}m' -f $profileName, [Math]::Floor($minutes / 60), ($minutes % 60))
}

# Tab completion of profile names, from `rolecall configure list-profiles` (one name per line).
Register-ArgumentCompleter -Native -CommandName assume -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    & rolecall configure list-profiles 2>$null | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}

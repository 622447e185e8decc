"""`stsdash completion`: the generated scripts complete subcommands, options and profile names when a
real bash or fish asks them (zsh's completion system needs an interactive line editor, so the zsh
script is checked for syntax, for wiring the profile list and for registering itself with compinit)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest


@pytest.fixture
def env(aws_home, tmp_path):
    aws_home.write_config(
        textwrap.dedent(
            """\
            [default]
            region = us-east-1
            [profile dev-admin]
            region = eu-west-1
            [profile dev-read]
            region = eu-west-1
            [sso-session corp]
            sso_start_url = https://example.awsapps.com/start
            """
        )
    )
    aws_home.write_credentials("[legacy-keys]\naws_access_key_id = AKIAFAKEEXAMPLE\n"
                               "aws_secret_access_key = FAKE-EXAMPLE\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "stsdash"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m stsdash "$@"\n')
    wrapper.chmod(0o755)
    import os

    return aws_home.subprocess_env(PATH=f"{bin_dir}:{os.environ['PATH']}",
                                   PYTHONPATH=os.environ.get("PYTHONPATH", ""))


def stsdash(env, *args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "stsdash", *args], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_list_profiles_reads_both_files(env) -> None:
    assert stsdash(env, "completion", "--list-profiles").split() == [
        "default", "dev-admin", "dev-read", "legacy-keys"
    ]


def bash_complete(script_path, env, *words: str) -> list[str]:
    line = " ".join(words)
    array = " ".join(f"'{w}'" for w in words)
    code = (
        f"source {script_path}; COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; "
        f'COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; _shtab_stsdash; printf "%s\\n" "${{COMPREPLY[@]}}"'
    )
    run = subprocess.run(["bash", "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return [w for w in run.stdout.splitlines() if w]


def test_bash_completes_commands_options_profiles_and_regions(env, tmp_path) -> None:
    script = tmp_path / "stsdash.bash"
    script.write_text(stsdash(env, "completion", "bash"))
    assert "exec" in bash_complete(script, env, "stsdash", "e")
    assert "completion" in bash_complete(script, env, "stsdash", "co")
    assert bash_complete(script, env, "stsdash", "exec", "--reg") == ["--region"]
    assert sorted(bash_complete(script, env, "stsdash", "exec", "dev")) == ["dev-admin", "dev-read"]
    assert "legacy-keys" in bash_complete(script, env, "stsdash", "env", "")
    assert bash_complete(script, env, "stsdash", "env", "dev-admin", "--region", "eu-west-") == [
        "eu-west-1", "eu-west-2", "eu-west-3"
    ]
    assert bash_complete(script, env, "stsdash", "env", "dev-admin", "--format", "f") == ["fish"]


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_completes_commands_options_and_profiles(env, tmp_path) -> None:
    script = tmp_path / "stsdash.fish"
    script.write_text(stsdash(env, "completion", "fish"))

    def complete(line: str) -> list[str]:
        run = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"], env=env,
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        return [out.split("\t")[0] for out in run.stdout.splitlines()]

    assert "exec" in complete("stsdash ex")
    assert "--region" in complete("stsdash exec --re")
    assert sorted(complete("stsdash exec dev")) == ["dev-admin", "dev-read"]


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_script_parses_and_lists_profiles(env, tmp_path) -> None:
    script = tmp_path / "_stsdash"
    text = stsdash(env, "completion", "zsh")
    script.write_text(text)
    run = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert text.startswith("#compdef stsdash")
    assert "stsdash completion --list-profiles" in text
    # evaluated after compinit, the script registers its completion function for `stsdash`
    code = f'autoload -U compinit && compinit -u -D; eval "$(<{script})"; print -r -- ${{_comps[stsdash]}}'
    run = subprocess.run(["zsh", "-f", "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "_shtab_stsdash"

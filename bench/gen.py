#!/usr/bin/env python3
# Copy of ../shared/bench/gen.py (the shared workload generator), kept here so tests and
# benchmarks run from a clone alone.
"""Deterministic workloads for spx benchmarks.

  gen.py yaml N OUT      a secrets YAML file with N scalar keys in nested services,
                         with comments, lists and multi-line values, like a real secrets file
  gen.py repo DIR        a git repository with 20,000 tracked source files and 50 staged changes,
                         six of which hold planted secrets (listed in DIR/PLANTED)
"""
import os, random, subprocess, sys

def yaml_file(n, out):
    rnd = random.Random(n)
    per = 50
    with open(out, "w") as f:
        f.write("# generated secrets workload\n")
        written = 0
        s = 0
        while written < n:
            f.write(f"service_{s}:\n    # owner: team-{s % 7}\n")
            for k in range(min(per, n - written)):
                kind = k % 10
                if kind == 7:
                    f.write(f"    cert_{k}: |\n        -----BEGIN CERT-----\n        {rnd.getrandbits(256):064x}\n        -----END CERT-----\n")
                elif kind == 8:
                    f.write(f"    port_{k}: {1024 + rnd.randrange(60000)}\n")
                elif kind == 9:
                    f.write(f"    hosts_{k}:\n        - h{rnd.randrange(99)}.example\n")
                else:
                    f.write(f"    key_{k}: v_{rnd.getrandbits(128):032x}\n")
                written += 1
            s += 1

PLANTED = {
    "config/aws.py": 'AWS_ACCESS_KEY_ID = "AKIA' + "Q" * 16 + '"\n',
    "scripts/deploy.sh": "export GH_TOKEN=ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2 + "\n",
    "notes/age.txt": "AGE-SECRET-KEY-1" + "Q" * 58 + "\n",
    "keys/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    "secrets/plain.yaml": "smtp_password: hunter2-but-longer\n",
    "monitoring/.env": "GRAFANA_ADMIN_PASSWORD=correct-horse-battery\n",
}

def repo(d):
    os.makedirs(d)
    rnd = random.Random(20000)
    git = lambda *a: subprocess.run(["git", "-C", d, *a], check=True, capture_output=True)
    git("init", "-q")
    for i in range(20000):
        p = os.path.join(d, f"src/m{i // 500}/f{i}.rs")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            for j in range(30):
                f.write(f"fn f{j}() -> u64 {{ {rnd.getrandbits(32)} }} // line {j}\n")
    git("add", "-A")
    git("-c", "user.name=bench", "-c", "user.email=bench@example", "commit", "-q", "-m", "base")
    for i in range(44):
        with open(os.path.join(d, f"src/m0/f{i}.rs"), "a") as f:
            f.write("fn changed() {}\n")
    for path, text in PLANTED.items():
        p = os.path.join(d, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    git("add", "-A", "-f")
    with open(os.path.join(d, "PLANTED"), "w") as f:
        f.write("\n".join(PLANTED) + "\n")

if __name__ == "__main__":
    if sys.argv[1] == "yaml":
        yaml_file(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "repo":
        repo(sys.argv[2])
    else:
        sys.exit(__doc__)

#!/usr/bin/env bash
# Installs the Debian packages the real-component tests need and prepares the VM boot assets in
# .lab/cache/vm/, so a test run never downloads. Runs on Debian 12 (developer machines and CI); idempotent.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# package:probe pairs. A probe is a command name looked up on PATH (plus the sbin folders), or
# "pkg" where no binary identifies the package (fonts, a static build, configuration only).
requirements=(
  tigervnc-standalone-server:Xvnc
  tigervnc-tools:vncpasswd
  xterm:xterm
  xfonts-base:pkg
  x11-utils:xwininfo
  xdotool:xdotool
  xvfb:Xvfb
  x11vnc:x11vnc
  vncsnapshot:vncsnapshot
  qemu-system-x86:qemu-system-x86_64
  qemu-utils:qemu-img
  busybox-static:pkg
  cpio:cpio
  libvirt-daemon-system:pkg
  libvirt-daemon-driver-qemu:pkg
  libvirt-clients:virsh
  openssh-server:sshd
  chromium:chromium
  gnome-keyring:gnome-keyring-daemon
  libsecret-tools:secret-tool
  dbus-daemon:dbus-daemon
  dbus-bin:dbus-send
)

has_command() {
  PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1
}

is_package_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

missing=()
for requirement in "${requirements[@]}"; do
  package="${requirement%%:*}"
  probe="${requirement#*:}"
  if [ "$probe" = pkg ]; then
    is_package_installed "$package" || missing+=("$package")
  else
    has_command "$probe" || missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "lab packages: all present"
else
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "lab packages missing (${missing[*]}) and not root without sudo: run this script as root" >&2
      exit 1
    fi
    sudo_cmd=(sudo)
  fi
  echo "lab packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The lock timeout lets this wait for another apt run (a second checkout, CI set-up) instead of failing.
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi

# The L0 lab (tests/lab/libvirt.ts) starts libvirtd itself, as root, and creates its SSH user in group
# libvirt; the package creates that group. /dev/kvm gets udev's root:kvm 0660: without udev (containers)
# it is root-only, and libvirtd, seeing KVM when probing QEMU but not as its qemu user (group kvm),
# re-probes QEMU on every call. The lab repeats this at start (/dev is rebuilt at boot).
if [ "$(id -u)" -eq 0 ]; then
  getent group libvirt >/dev/null || groupadd --system libvirt
  if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
    chgrp kvm /dev/kvm
    chmod g+rw /dev/kvm
  fi
fi

if [ ! -x "$repo_root/node_modules/.bin/tsx" ]; then
  echo "node_modules/.bin/tsx is missing: run \`npm install\` in $repo_root, then this script again" >&2
  exit 1
fi
cd "$repo_root"
node --import tsx tests/lab/vm-assets.ts

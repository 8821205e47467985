"""Guests: qemu/libvirt backends, consoles, images, env files, the tiny guest.

Kept empty on purpose: importing ``kvmtest.vm.X`` should cost only X. Where things live:
``errors`` (VMError family), ``reaper`` (find/kill a job's guests), ``base`` (the VM
interface and lifecycle states), ``console``/``qmp`` (channels), ``qemu``/``libvirt_vm``
(backends), ``lifecycle`` (pre/postprocess around a test), ``env`` (env files).
"""

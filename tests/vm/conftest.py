from tests.vm.guestkit import no_qemu_left  # noqa: F401  (session finalizer: no qemu left)

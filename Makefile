# kevent lab: thin wrapper around scripts/ (see README.md).
#   make check [T=prog[,prog]]   host checks + kernel build + QEMU boot (KUnit, selftests)
#   make check-debug [KCSAN=1|RT=1]   the same on a debug kernel (KASAN, lockdep, kmemleak, ...)
#   make shell                   boot the lab kernel into a busybox shell
#   make patches                 regenerate patches/ from series/ and the repo files
#   make bisect-check            build pristine + patches 1..k for every k
#   make bench [ICOUNT=1] [PROFILE=1] evserver on kevent vs epoll, io_uring, lighttpd (results/)
#   KSRC=/path/to/linux          use your own clean 6.12.y git tree instead of Debian's
.PHONY: check check-debug shell patches bisect-check bench kernel clean
export T KSRC V IDLE TIMEOUT ICOUNT PROFILE KCSAN RT

check:
	@scripts/check

check-debug:
	@scripts/check-debug

shell:
	@scripts/shell

patches:
	@scripts/mkpatches

bisect-check:
	@scripts/bisect-check

bench:
	@scripts/bench

kernel:
	@scripts/deps check && scripts/apply-series && scripts/build-kernel

clean:
	rm -rf build/obj build/obj-w1 build/obj.cfg build/obj-w1.cfg build/hdr build/selftests \
		build/obj-debug build/obj-debug.cfg build/obj-kcsan build/obj-kcsan.cfg \
		build/userspace build/initramfs build/initramfs.cpio.gz build/stamps build/logs build/ksrc/obj

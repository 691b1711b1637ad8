/* Start-up for qemu-system-riscv32 -machine virt -bios none: every hart enters
 * _start with a0 = hart id. Each hart gets its own stack and TLS block (picolibc's
 * errno is thread-local). Hart 0 zeroes .bss, sets up TLS and constructors, releases
 * the other harts, runs main() and exits through semihosting with main's status.
 * Harts 1..8 sleep in wfi until released (a spinning hart would steal QEMU's single
 * -icount thread), then serve cluster tasks in mcuq_cluster_loop (runtime.c). */
	.section .text.start, "ax", @progbits
	.globl	_start
	.type	_start, @function
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	csrr	s0, mhartid
	/* linker-script constants are absolute: load them with lui/addi, not la */
	lui	t0, %hi(__max_harts)
	addi	t0, t0, %lo(__max_harts)
	bgeu	s0, t0, park

	/* sp = __stacks_end - hartid * __stack_per_hart */
	lui	t0, %hi(__stack_per_hart)
	addi	t0, t0, %lo(__stack_per_hart)
	mul	t1, t0, s0
	la	sp, __stacks_end
	sub	sp, sp, t1

	la	t0, trap_entry
	csrw	mtvec, t0
	/* mie.MSIE: a CLINT msip write wakes this hart from wfi (no trap: mstatus.MIE=0) */
	li	t0, (1 << 3)
	csrs	mie, t0
	/* mstatus.FS = initial: F and Zfh instructions do not trap */
	li	t0, (1 << 13)
	csrs	mstatus, t0
	csrwi	fcsr, 0

	/* tp = __hart_tls + hartid * __tls_per_hart */
	lui	t0, %hi(__tls_per_hart)
	addi	t0, t0, %lo(__tls_per_hart)
	mul	t1, t0, s0
	la	tp, __hart_tls
	add	tp, tp, t1

	bnez	s0, secondary

	la	a0, __bss_start
	la	a2, __bss_end
	sub	a2, a2, a0
	li	a1, 0
	call	memset
	mv	a0, tp
	call	_init_tls
	call	__libc_init_array
	/* release the other harts: boot_flag (in .data, which nobody zeroes), then msip */
	fence	rw, rw
	la	t0, boot_flag
	li	t1, 1
	sw	t1, 0(t0)
	fence	iorw, iorw
	li	t2, 0x02000000
	lui	t3, %hi(__max_harts)
	addi	t3, t3, %lo(__max_harts)
	li	t4, 1
2:	bgeu	t4, t3, 3f
	slli	t5, t4, 2
	add	t5, t5, t2
	sw	t1, 0(t5)
	addi	t4, t4, 1
	j	2b
3:	li	a0, 0
	li	a1, 0
	call	main
	call	exit
secondary:
	li	t2, 0x02000000
	slli	t3, s0, 2
	add	t2, t2, t3
	la	t0, boot_flag
4:	sw	zero, 0(t2)
	fence	iorw, iorw
	lw	t1, 0(t0)
	bnez	t1, 5f
	wfi
	j	4b
5:	fence	r, rw
	mv	a0, tp
	call	_init_tls
	mv	a0, s0
	call	mcuq_cluster_loop
park:
	wfi
	j	park
	.size	_start, . - _start

/* any trap: report cause and address, exit with 128 + cause */
	.text
	.align	4
trap_entry:
	csrr	a0, mcause
	csrr	a1, mepc
	csrr	a2, mtval
	andi	sp, sp, -16
	call	mcuq_port_trap
1:	j	1b

	.data
	.align	2
boot_flag:
	.word	0

/* Start-up on the CV32E40P testbench: set up gp, sp and TLS (picolibc's errno is
 * thread-local), zero .bss, run constructors, enable the cycle and instruction counters
 * (off at reset: mcountinhibit), run main() and exit with its status. Any trap (the
 * core vectors to 0) ends the run with 128 + mcause. */
	.section .vectors, "ax"
	.option push
	.option norvc
	.rept 32
	j	trap_entry
	.endr
	.option pop

	.section .text.start, "ax", @progbits
	.globl	_start
	.type	_start, @function
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	la	sp, __stack_end
	la	a0, __bss_start
	la	a2, __bss_end
	sub	a2, a2, a0
	li	a1, 0
	call	memset
	la	tp, __tls_block
	mv	a0, tp
	call	_init_tls
	call	__libc_init_array
	csrw	0x320, zero		/* mcountinhibit: count cycles and instructions */
	li	a0, 0
	li	a1, 0
	call	main
	call	exit
	.size	_start, . - _start

	.text
	.align	2
trap_entry:
	csrr	a0, mcause
	csrr	a1, mepc
	csrr	a2, mtval
	la	sp, __stack_end
	call	mcuq_port_trap
1:	j	1b

/* void mcuq_rtl_switch(uint32_t *save_sp, uint32_t next_sp): save this context's
 * return address and callee-saved registers on its stack, keep its stack pointer in
 * *save_sp, and resume the context whose stack pointer is next_sp (runtime.c). */
	.globl	mcuq_rtl_switch
	.type	mcuq_rtl_switch, @function
mcuq_rtl_switch:
	addi	sp, sp, -64
	sw	ra, 0(sp)
	sw	s0, 4(sp)
	sw	s1, 8(sp)
	sw	s2, 12(sp)
	sw	s3, 16(sp)
	sw	s4, 20(sp)
	sw	s5, 24(sp)
	sw	s6, 28(sp)
	sw	s7, 32(sp)
	sw	s8, 36(sp)
	sw	s9, 40(sp)
	sw	s10, 44(sp)
	sw	s11, 48(sp)
	sw	sp, 0(a0)
	mv	sp, a1
	lw	ra, 0(sp)
	lw	s0, 4(sp)
	lw	s1, 8(sp)
	lw	s2, 12(sp)
	lw	s3, 16(sp)
	lw	s4, 20(sp)
	lw	s5, 24(sp)
	lw	s6, 28(sp)
	lw	s7, 32(sp)
	lw	s8, 36(sp)
	lw	s9, 40(sp)
	lw	s10, 44(sp)
	lw	s11, 48(sp)
	addi	sp, sp, 64
	ret
	.size	mcuq_rtl_switch, . - mcuq_rtl_switch

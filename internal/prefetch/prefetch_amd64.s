#include "textflag.h"

// func line(p *byte)
TEXT ·line(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ	p+0(FP), AX
	PREFETCHT0	(AX)
	RET

// func lines(p *byte, n int)
// PREFETCHT0 every 64-byte line of p[0:n], n > 0, from the last one down
// to the first.
TEXT ·lines(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ	p+0(FP), AX
	MOVQ	n+8(FP), CX
	LEAQ	-1(AX)(CX*1), CX // the last byte
	ANDQ	$~63, CX         // its line
	ANDQ	$~63, AX         // the first line
loop:
	PREFETCHT0	(CX)
	SUBQ	$64, CX
	CMPQ	CX, AX
	JAE	loop
	RET

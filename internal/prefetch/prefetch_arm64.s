#include "textflag.h"

// func line(p *byte)
TEXT ·line(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	p+0(FP), R0
	PRFM	(R0), PLDL1KEEP
	RET

// func lines(p *byte, n int)
// PRFM PLDL1KEEP every 64-byte line of p[0:n], n > 0, from the last one
// down to the first.
TEXT ·lines(SB), NOSPLIT|NOFRAME, $0-16
	MOVD	p+0(FP), R0
	MOVD	n+8(FP), R1
	ADD	R0, R1, R1
	SUB	$1, R1, R1   // the last byte
	AND	$~63, R1, R1 // its line
	AND	$~63, R0, R0 // the first line
loop:
	PRFM	(R1), PLDL1KEEP
	SUB	$64, R1, R1
	CMP	R0, R1
	BHS	loop
	RET

#include "textflag.h"

// func Range(p unsafe.Pointer, n uintptr)
TEXT ·Range(SB), NOSPLIT, $0-16
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
	ADD  R0, R1, R1 // R1: the end of the range
	AND  $~63, R0   // R0: the start of its first line
loop:
	CMP  R1, R0
	BHS  done       // R0 >= R1, unsigned
	PRFM (R0), PLDL1KEEP
	ADD  $64, R0
	B    loop
done:
	RET

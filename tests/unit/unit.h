/*
 * unit.h — the command reader the unit drivers share: one command a line
 * on stdin, "WORD REST".
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

/* Read the next line into line (its newline dropped), cut after the first
 * word; *arg is the rest ("" when none).  0 at the end of input. */
static inline int unit_command(char *line, int size, char **arg)
{
	if (!fgets(line, size, stdin))
		return 0;
	line[strcspn(line, "\n")] = '\0';
	*arg = strchr(line, ' ');
	if (*arg)
		*(*arg)++ = '\0';
	else
		*arg = line + strlen(line);
	return 1;
}

#endif

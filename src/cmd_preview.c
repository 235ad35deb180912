#include "commands.h"
#include "util.h"

int cmd_preview(int argc, char **argv, struct ctx *ctx)
{
	(void)argc; (void)argv; (void)ctx;
	return error("preview: not yet") ? EX_SOFTWARE : 0;
}

#ifndef BULLETIN_DATADIR_H
#define BULLETIN_DATADIR_H

/*
 * Where the installed defaults are: the folder holding templates/ (the
 * default templates and labels) and starter/LANG/ (a first issue), which
 * 'bulletin init' copies into a new project.
 *
 * Looked for, first found wins (found = it holds templates/theme.ini):
 *   1. $BULLETIN_DATADIR, when set and not empty: then it must hold them
 *      (tests, relocated installs);
 *   2. EXEDIR/../share/bulletin, EXEDIR being the folder of the running
 *      program's real path (/proc/self/exe): an installed copy, wherever
 *      its PREFIX or DESTDIR put it;
 *   3. EXEDIR itself: the program run from its build tree, where the
 *      repository's templates/ and starter/ sit next to it;
 *   4. the folder compiled in (-DBULLETIN_DATADIR, make's
 *      $(PREFIX)/share/bulletin).
 */

/* Returns the folder (the caller frees it), or NULL after error() naming
 * where it looked. */
char *datadir_find(void);

#endif

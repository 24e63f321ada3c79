// What a drop of files on the start screen (outside its library section) does: one RetroVisor JSON
// profile opens, as it always has; other viewers' connection files, or several files, are imported
// into the library as one new profile. Pure.

/** Extensions of other tools' connection files, which can only be imported. */
const IMPORT_ONLY_EXTENSIONS = ['.vv', '.tigervnc', '.remmina'];

/** 'open' for a single profile file (anything not named as another tool's file), else 'import'. */
export function dropChoice(fileNames: readonly string[]): 'open' | 'import' {
  if (fileNames.length !== 1) return 'import';
  const name = (fileNames[0] ?? '').toLowerCase();
  return IMPORT_ONLY_EXTENSIONS.some((extension) => name.endsWith(extension)) ? 'import' : 'open';
}

// Upgrade guides, migration guides, codemod lists and legacy pages repeat
// the names of nearly every feature they touch ("`revalidateTag`",
// "Parallel Routes `default.js` requirement"), so on words alone they
// compete with the reference page of that feature. They answer what
// changed, or how to move off something old; a question that asks about
// neither wants the feature's own page. Pure: the ranking weighs a
// change document down unless the question asks about a change.

/** A path segment or title word that marks a document as being about a
 * change: upgrading, migrating, codemods, changelogs, legacy APIs,
 * release-numbered guides ("version-15"). */
const changePath =
  /(^|[/_-])(upgrad\w*|migrat\w*|codemods?|changelog|release-notes|legacy|deprecated|version-\d+)([/._-]|$)/i;
const changeTitle =
  /\b(upgrad\w*|migrat\w*|codemods?|changelog|release notes|legacy|deprecated|version \d+)\b/i;

export function isChangeDocument(path: string, title: string): boolean {
  return changePath.test(path) || changeTitle.test(title);
}

/** Words that ask about a change: moving between versions or off an old
 * API, something renamed, removed or deprecated, a release number
 * ("v15", "version 14", "Next.js 16", "16.2"). "Which Node.js version"
 * names no release, so it asks about no change. */
const changeQuestion =
  /\b(upgrad\w*|migrat\w*|codemods?|changelog|legacy|deprecat\w*|breaking|renamed?|removed|old|older|previous(ly)?|anymore|no longer|used to|(switch\w*|mov\w+|coming) from|v\d+(\.\d+)*|(version|release|next|next\.?js|react) \d+|\d+\.\d+(\.\d+)?)\b/i;

export function asksAboutChange(question: string): boolean {
  return changeQuestion.test(question);
}

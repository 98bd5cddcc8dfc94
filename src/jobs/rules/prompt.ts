// The messages of each model call. Pure. Three kinds: the first prompt (task, files, the
// steps that verify it and the failing output before any change), a retry on the same tier
// (adds the model's previous change and what failed after it, or why its edit did not apply),
// and the fresh prompt after an escalation (the failure summary only: no transcript of the
// smaller model, whose wrong ideas would only mislead).
import type { EditFormat, VerifyStep } from '../types.js';

/** An OpenAI chat message. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A file shown to the model. */
export interface ContextFile {
  path: string;
  content: string;
}

/** What every prompt is built from. */
export interface PromptBase {
  task: string;
  files: readonly ContextFile[];
  steps: readonly VerifyStep[];
  format: EditFormat;
  limits: { maxFiles: number; maxChangedLines: number };
  /** Output of verification before any change (failing part first), '' when it passed or was not run. */
  baseline: string;
}

/** Why the previous attempt on this tier did not pass. */
export type Feedback =
  | { kind: 'verify-failed'; diff: string; step: string; output: string }
  | { kind: 'edit-failed'; reply: string; problem: string };

const WHOLE_RULES = `Answer with every file you change, each written as:
FILE: path/to/file
\`\`\`
the complete new content of the file
\`\`\`
Write the whole file, not just the changed lines.`;

const SEARCH_REPLACE_RULES = `Answer with SEARCH/REPLACE blocks, each written as:
path/to/file
<<<<<<< SEARCH
the exact lines to find, copied from the file
=======
the lines to put instead
>>>>>>> REPLACE
To create a new file, leave SEARCH empty.`;

function system(base: PromptBase): ChatMessage {
  const rules = base.format === 'whole' ? WHOLE_RULES : SEARCH_REPLACE_RULES;
  return {
    role: 'system',
    content: `You are a careful software engineer changing a repository so that its verification passes.
${rules}
Paths are relative to the repository root. Change at most ${base.limits.maxFiles} files and ${base.limits.maxChangedLines} lines. Do not explain at length.`,
  };
}

function taskText(base: PromptBase): string {
  const files = base.files
    .map((file) => `FILE: ${file.path}\n\`\`\`\n${file.content.replace(/\n$/, '')}\n\`\`\``)
    .join('\n\n');
  const steps = base.steps.map((step) => `- ${step.name}: ${step.argv.join(' ')}`).join('\n');
  return [
    `## Task\n${base.task}`,
    files ? `## Files\n${files}` : '## Files\n(none found; create what the task needs)',
    steps ? `## Verification (must pass)\n${steps}` : '',
    base.baseline ? `## Verification output before any change\n\`\`\`\n${base.baseline}\n\`\`\`` : '',
  ]
    .filter((part) => part !== '')
    .join('\n\n');
}

/** The first prompt of a job (or of a tier's fresh start with no failure yet). */
export function initialPrompt(base: PromptBase): ChatMessage[] {
  return [system(base), { role: 'user', content: taskText(base) }];
}

/** A retry on the same tier: the previous change and why it failed. */
export function retryPrompt(base: PromptBase, feedback: Feedback): ChatMessage[] {
  const follow =
    feedback.kind === 'verify-failed'
      ? `## Your previous change\n\`\`\`diff\n${feedback.diff}\n\`\`\`\n\n## Verification failed after your change (${feedback.step})\n\`\`\`\n${feedback.output}\n\`\`\`\n\nThe files above are as they were before your change. Fix the task again and answer with a complete edit against them.`
      : `## Your previous edit could not be applied\n${feedback.problem}\n\nThe files above are unchanged. Answer again with an edit that applies.`;
  return [system(base), { role: 'user', content: `${taskText(base)}\n\n${follow}` }];
}

/** The fresh prompt after an escalation: the failure summary, none of the earlier transcript. */
export function escalatedPrompt(
  base: PromptBase,
  summary: { attempts: number; step: string; output: string },
): ChatMessage[] {
  const follow = `## Earlier attempts\n${summary.attempts} earlier attempt(s) by another model did not pass. The last failure (${summary.step}):\n\`\`\`\n${summary.output}\n\`\`\`\nThe files above are unchanged; solve the task from them.`;
  return [system(base), { role: 'user', content: `${taskText(base)}\n\n${follow}` }];
}

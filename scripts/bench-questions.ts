/**
 * Benchmark of the question-answering core alone: questions per second over the question corpus,
 * on one core (this process). Run with `npm run bench`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { loadGuideFile } from '../src/adapters/guide-file';
import { projectRoot } from '../src/config/config';
import { answerQuestion, buildKnowledge } from '../src/domain/questions/answer-question';

interface Case {
  readonly q: string;
  readonly asked: string;
}

const zone = 'Europe/London';
const corpus = (JSON.parse(fs.readFileSync(path.join(projectRoot, 'test', 'questions', 'corpus.json'), 'utf8')) as Case[]).map((c) => ({
  text: c.q,
  asked: DateTime.fromISO(c.asked, { zone }).toJSDate(),
}));
const knowledge = buildKnowledge(loadGuideFile(path.join(projectRoot, 'content', 'guide.json')), zone);

function run(seconds: number): { questions: number; elapsed: number } {
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(seconds * 1e9));
  let questions = 0;
  let sink = 0;
  while (process.hrtime.bigint() < until) {
    for (const c of corpus) {
      sink += answerQuestion(c.text, c.asked, knowledge).kind.length;
      questions += 1;
    }
  }
  if (sink === 0) throw new Error('nothing answered');
  return { questions, elapsed: Number(process.hrtime.bigint() - start) / 1e9 };
}

run(1); // warm-up: let the JIT settle before measuring
const rounds = [run(3), run(3), run(3)].map((r) => r.questions / r.elapsed).sort((a, b) => a - b);
const median = rounds[1]!;
const result = { corpusSize: corpus.length, questionsPerSecond: Math.round(median), rounds: rounds.map(Math.round), node: process.version };
process.stdout.write(`Answering core: ${result.questionsPerSecond.toLocaleString('en-GB')} questions/second (median of 3 x 3 s over ${corpus.length} corpus questions, one core, ${process.version})\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);

/**
 * The answering core alone: questions answered per second over the question corpus, on one core
 * (this process; the runner pins it). Median of 3 rounds of 3 s after a 1 s warm-up. Reports over
 * IPC when started by the runner, and prints its result when run by hand
 * (`node dist/scripts/bench/core.js`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { loadGuideFile } from '../../src/adapters/guide-file';
import { projectRoot } from '../../src/config/config';
import { answerQuestion, buildKnowledge } from '../../src/domain/questions/answer-question';

interface Case {
  readonly q: string;
  readonly asked: string;
}

/** What the core benchmark measured. */
export interface CoreResult {
  readonly corpusSize: number;
  readonly questionsPerSecond: number;
  readonly rounds: readonly number[];
}

const zone = 'Europe/London';

function measure(): CoreResult {
  const corpus = (JSON.parse(fs.readFileSync(path.join(projectRoot, 'test', 'questions', 'corpus.json'), 'utf8')) as Case[]).map((c) => ({
    text: c.q,
    asked: DateTime.fromISO(c.asked, { zone }).toJSDate(),
  }));
  const knowledge = buildKnowledge(loadGuideFile(path.join(projectRoot, 'content', 'guide.json')), zone);

  const run = (seconds: number): number => {
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
    return questions / (Number(process.hrtime.bigint() - start) / 1e9);
  };

  run(1); // warm-up: let the JIT settle before measuring
  const rounds = [run(3), run(3), run(3)].sort((a, b) => a - b);
  return { corpusSize: corpus.length, questionsPerSecond: Math.round(rounds[1]!), rounds: rounds.map(Math.round) };
}

const result = measure();
if (process.send) {
  process.send({ event: 'result', result });
  process.disconnect();
} else {
  process.stdout.write(
    `Answering core: ${result.questionsPerSecond.toLocaleString('en-GB')} questions/second (median of 3 x 3 s over ${result.corpusSize} corpus questions, one core, ${process.version})\n`,
  );
}

import { buildGazetteer, elsewhere } from '../../src/domain/questions/places';
import { boundedDistance } from '../../src/domain/questions/text';
import { realGuide } from '../support/fixtures';

const gazetteer = buildGazetteer(realGuide());
const targetsOf = (text: string) => gazetteer.find(text).map((m) => m.targets.join('|'));

describe('finding places in a question', () => {
  it.each([
    ['images from Musgrove Park', 'taunton-yeovil'],
    ['scan was at Yeovil District, how do I view it', 'taunton-yeovil'],
    ['Taunton access at 2am', 'taunton-yeovil'],
    ['need images from Southmead', 'north-bristol'],
    ['NBT imaging', 'north-bristol'],
    ['RUH scan', 'bath'],
    ['Royal United Hospital Bath', 'bath'],
    ['CT at Derriford', 'plymouth'],
    ['MRI at Treliske', 'cornwall'],
    ['Royal Cornwall Hospital', 'cornwall'],
    ['Torbay echo', 'south-devon'],
    ['North Devon District Hospital', 'north-devon'],
    ['from Barnstaple', 'north-devon'],
    ['Royal Devon & Exeter', 'exeter'],
    ['RD&E', 'exeter'],
    ['Dorset County Hospital', 'dorset-county'],
    ['from Dorchester', 'dorset-county'],
    ['Weston General', 'weston'],
    ['Weston-super-Mare', 'weston'],
    ['urgent CT from Swansea', elsewhere],
    ['images from Cardiff', elsewhere],
    ['Great Ormond Street', elsewhere],
    ["Addenbrooke's", elsewhere],
  ])('"%s" -> %s', (text, target) => {
    expect(targetsOf(text)).toEqual([target]);
  });

  it.each([
    ['how do I get tauton access', 'taunton-yeovil'],
    ['images at plymoth', 'plymouth'],
    ['Derriferd CT', 'plymouth'],
    ['Musgrave Park', 'taunton-yeovil'],
    ['Southmeed', 'north-bristol'],
    ['Barnstable', 'north-devon'],
    ['cornwal', 'cornwall'],
    ['Yeovill', 'taunton-yeovil'],
    ['Dorchster', 'dorset-county'],
  ])('tolerates the misspelling "%s"', (text, target) => {
    const [match] = gazetteer.find(text);
    expect(match?.targets).toEqual([target]);
    expect(match?.corrected).toBe(true);
  });

  it.each([
    ['images from Bristol', ['uh-bristol', 'north-bristol']],
    ['scan in Devon', ['north-devon', 'exeter', 'south-devon']],
    ['Dorset', ['dorset-county', elsewhere]],
  ])('"%s" is ambiguous', (text, targets) => {
    expect(gazetteer.find(text)[0]?.targets).toEqual(targets);
  });

  it('prefers the longest name: North Bristol is not ambiguous', () => {
    expect(targetsOf('North Bristol imaging')).toEqual(['north-bristol']);
    expect(targetsOf('from the Bristol Royal Infirmary')).toEqual(['uh-bristol']);
  });

  it.each([
    'western blot results',
    'stroke patient needs CT',
    'what does the satellite mean',
    'reading the report now',
    'how long do images stay',
    'patient 943 476 5919 needs a scan',
    'cardiac MRI',
    'the leads are off',
  ])('finds no place in "%s"', (text) => {
    expect(gazetteer.find(text)).toEqual([]);
  });

  it('finds two places in one question', () => {
    expect(targetsOf('images from Exeter or Taunton')).toEqual(['exeter', 'taunton-yeovil']);
  });
});

describe('bounded edit distance', () => {
  it.each([
    ['taunton', 'taunton', 0],
    ['tauton', 'taunton', 1],
    ['tuanton', 'taunton', 1], // a transposition is one error
    ['plymoth', 'plymouth', 1],
    ['kitten', 'sitting', 3],
  ])('%s ~ %s = %d', (a, b, d) => {
    expect(boundedDistance(a, b, 5)).toBe(d);
  });

  it('gives up past the bound', () => {
    expect(boundedDistance('kitten', 'sitting', 1)).toBe(2);
    expect(boundedDistance('a', 'abcdef', 2)).toBe(3);
  });
});

/**
 * Recognition vocabulary beyond the guide's own trust and hospital names. These are not facts the
 * bot states: they only let it see that a question is about a place the guide does not list
 * (route D, IEP) or a name that could mean several of the guide's trusts (it then asks).
 */

/** UK cities, towns and hospitals outside the guide's trusts: images there come via IEP (Guide D). */
export const otherUkPlaces: readonly string[] = [
  // Wales
  'Cardiff', 'University Hospital of Wales', 'Heath Hospital', 'Llandough', 'Swansea', 'Morriston', 'Singleton Hospital',
  'Newport', 'Royal Gwent', 'Grange University Hospital', 'Bridgend', 'Princess of Wales Hospital', 'Merthyr', 'Prince Charles Hospital',
  'Carmarthen', 'Glangwili', 'Llanelli', 'Prince Philip Hospital', 'Aberystwyth', 'Bronglais', 'Haverfordwest', 'Withybush',
  'Wrexham', 'Wrexham Maelor', 'Bangor', 'Ysbyty Gwynedd', 'Glan Clwyd', 'Abergavenny', 'Nevill Hall', 'Wales',
  // South and South West England outside the guide's trusts
  'Frenchay', 'Gloucester', 'Gloucestershire Royal', 'Cheltenham', 'Cheltenham General', 'Swindon', 'Great Western Hospital', 'Salisbury',
  'Salisbury District Hospital', 'Southampton', 'Southampton General', 'Portsmouth', 'Queen Alexandra Hospital', 'Winchester',
  'Basingstoke', 'Bournemouth', 'Royal Bournemouth', 'Poole Hospital', 'Chippenham', 'Trowbridge', 'Frome', 'Isle of Wight',
  'St Marys Hospital Newport', 'Brighton', 'Royal Sussex County', 'Chichester', 'Worthing Hospital', 'Guildford', 'Royal Surrey',
  'Oxford', 'John Radcliffe', 'Stoke Mandeville', 'Aylesbury', 'High Wycombe', 'Southend', 'Basildon', 'Chelmsford', 'Maidstone',
  'Canterbury', 'Ashford', 'Margate', 'Tunbridge Wells', 'Eastbourne', 'Hastings', 'Crawley', 'Redhill', 'Kingston', 'Croydon', 'Banbury', 'Reading Royal Berkshire', 'Royal Berkshire Hospital', 'Slough', 'Wexham Park', 'Milton Keynes',
  'Hereford', 'Worcester', 'Worcestershire Royal', 'Redditch', 'Kidderminster',
  // London
  'London', 'Great Ormond Street', 'GOSH', 'St Thomas', 'St Thomass', 'Guys', 'Kings College Hospital', 'St Georges', 'Royal London',
  'UCLH', 'University College Hospital', 'Royal Brompton', 'Royal Marsden', 'Hammersmith', 'Charing Cross', 'Chelsea and Westminster',
  'Imperial', 'Barts', 'Whittington', 'Royal Free', 'Northwick Park',
  // Midlands, North, East
  'Birmingham', 'Queen Elizabeth Hospital Birmingham', 'Coventry', 'Leicester', 'Nottingham', 'Queens Medical Centre', 'Derby',
  'Stoke on Trent', 'Royal Stoke', 'Wolverhampton', 'New Cross Hospital', 'Shrewsbury', 'Telford', 'Northampton', 'Cambridge',
  'Addenbrookes', 'Papworth', 'Norwich', 'Ipswich', 'Colchester', 'Peterborough', 'Luton', 'Manchester', 'Salford', 'Wythenshawe',
  'Liverpool', 'Alder Hey', 'Aintree', 'Leeds', 'Sheffield', 'Bradford', 'York', 'Hull', 'Newcastle', 'Freeman Hospital',
  'Sunderland', 'Middlesbrough', 'James Cook', 'Preston', 'Blackpool', 'Lancaster', 'Carlisle', 'Oswestry', 'Lincoln',
  // Scotland and Northern Ireland
  'Scotland', 'Edinburgh', 'Glasgow', 'Aberdeen', 'Dundee', 'Inverness', 'Northern Ireland', 'Belfast',
];

/** Names that could mean more than one of the guide's trusts (or somewhere else): the bot asks. */
export const ambiguousPlaces: Readonly<Record<string, readonly string[]>> = {
  bristol: ['uh-bristol', 'north-bristol'],
  devon: ['north-devon', 'exeter', 'south-devon'],
  somerset: ['taunton-yeovil', 'weston', 'elsewhere'],
  dorset: ['dorset-county', 'elsewhere'],
};

/** Common words one typing error away from a place name: never read as a misspelt place. */
export const notPlaceWords: ReadonlySet<string> = new Set(['western', 'eastern', 'stroke', 'leads', 'reading', 'devin', 'sweston']);
